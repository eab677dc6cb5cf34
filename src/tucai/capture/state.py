"""The one function that moves a queue ticket between states; it refuses illegal moves."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tucai.audit.services import audit_record
from tucai.capture.models import TICKET_TRANSITIONS, Ticket, TicketState
from tucai.core.errors import TucaiError

_STAMP = {TicketState.CALLED: "called_at", TicketState.AT_CAMERA: "at_camera_at", TicketState.DONE: "done_at"}


def ticket_transition(*, ticket: Ticket, to: str, actor=None, actor_label: str = "", note: str = "") -> Ticket:
    """Move ``ticket`` to state ``to`` under a row lock, stamp the time and write the audit entry.

    Requeueing (SKIPPED/NO_SHOW → WAITING) puts the ticket behind everyone already waiting."""
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if to not in TICKET_TRANSITIONS.get(locked.state, frozenset()):
            raise TucaiError(
                "ticket.illegal_transition",
                f"排队号 {locked.number} 不能从“{TicketState(locked.state).label}”变为“{TicketState(to).label}”",
                f"Ticket {locked.number} cannot move from {locked.state} to {to}",
                details={"from": locked.state, "to": to},
            )
        old = locked.state
        locked.state = to
        fields = ["state", "updated_at"]
        if to in _STAMP:
            setattr(locked, _STAMP[to], timezone.now())
            fields.append(_STAMP[to])
        if to == TicketState.WAITING:
            last = Ticket.objects.filter(room_id=locked.room_id, date=locked.date, campaign_id=locked.campaign_id
                                         ).aggregate(m=Max("queue_order"))["m"] or 0
            locked.queue_order = last + 1
            locked.requeue_count += 1
            fields += ["queue_order", "requeue_count"]
        locked.save(update_fields=fields)
        audit_record(actor=actor, actor_label=actor_label, action="ticket.transition", obj=locked,
                     changes={"state": [old, to]}, note=note, campaign_id=locked.campaign_id)
    ticket.refresh_from_db()
    return ticket
