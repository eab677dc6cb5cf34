"""The one function that moves a queue ticket between states; it refuses illegal moves."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tucai.audit.services import audit_record
from tucai.capture.models import TICKET_TRANSITIONS, Ticket, TicketCounter, TicketState
from tucai.core.state import lock_for_transition

_STAMP = {TicketState.CALLED: "called_at", TicketState.AT_CAMERA: "at_camera_at", TicketState.DONE: "done_at"}


def ticket_transition(*, ticket: Ticket, to: str, actor=None, actor_label: str = "", note: str = "") -> Ticket:
    """Move ``ticket`` to state ``to`` under a row lock, stamp the time and write the audit entry.

    Requeueing (SKIPPED/NO_SHOW → WAITING) puts the ticket behind everyone already waiting."""
    with transaction.atomic():
        locked = lock_for_transition(Ticket, ticket.pk, to=to, transitions=TICKET_TRANSITIONS,
                                     code="ticket.illegal_transition", noun_zh=f"排队号 {ticket.number} ",
                                     noun_en=f"Ticket {ticket.number}")
        old = locked.state
        locked.state = to
        fields = ["state", "updated_at"]
        if to in _STAMP:
            setattr(locked, _STAMP[to], timezone.now())
            fields.append(_STAMP[to])
        if to == TicketState.WAITING:
            # The room's counter row serialises this with check-ins and other requeues, and holds the back
            # of the queue (check-ins read it there, see TicketCounter.last_queue_order).
            counter = TicketCounter.objects.select_for_update().filter(
                campaign_id=locked.campaign_id, room_id=locked.room_id, date=locked.date).first()
            last = Ticket.objects.filter(room_id=locked.room_id, date=locked.date, campaign_id=locked.campaign_id
                                         ).aggregate(m=Max("queue_order"))["m"] or 0
            locked.queue_order = max(last, counter.last_queue_order if counter else 0) + 1
            if counter is not None:
                TicketCounter.objects.filter(pk=counter.pk).update(last_queue_order=locked.queue_order)
            locked.requeue_count += 1
            fields += ["queue_order", "requeue_count"]
        locked.save(update_fields=fields)
        audit_record(actor=actor, actor_label=actor_label, action="ticket.transition", obj=locked,
                     changes={"state": [old, to]}, note=note, campaign_id=locked.campaign_id)
    ticket.refresh_from_db()
    return ticket
