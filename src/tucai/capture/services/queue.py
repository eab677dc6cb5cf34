"""The queue at the camera: call next, recall, skip, start, finish.

Every move goes through :func:`tucai.capture.state.ticket_transition` (one place that refuses
illegal moves and writes the audit entry); these functions only pick the ticket and chain moves."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from tucai.capture.models import Ticket, TicketState
from tucai.capture.state import ticket_transition
from tucai.core.errors import TucaiError


def queue_call_next(*, campaign, room, date: dt.date, actor=None, actor_label: str = "") -> Ticket | None:
    """Call the waiting ticket with the lowest ``queue_order`` in this room today (None when nobody waits).

    ``skip_locked`` lets two stations call at the same moment without ever getting the same ticket:
    the second one passes over the row the first holds and takes the next. (SQLite has no row locks;
    its IMMEDIATE transactions serialise the two calls instead.)"""
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(skip_locked=True)
            .filter(campaign=campaign, room=room, date=date, state=TicketState.WAITING)
            .order_by("queue_order", "number")
            .first()
        )
        if ticket is None:
            return None
        return ticket_transition(ticket=ticket, to=TicketState.CALLED, actor=actor, actor_label=actor_label,
                                 note="call_next")


def queue_recall(*, ticket: Ticket, actor=None, actor_label: str = "") -> Ticket:
    """Call the same number again (CALLED → CALLED restamps ``called_at`` so the display flashes it)."""
    # WAITING → CALLED is a legal move too, but that is "call", not "recall": refuse it here.
    state = Ticket.objects.filter(pk=ticket.pk).values_list("state", flat=True).first()
    if state != TicketState.CALLED:
        raise TucaiError("ticket.illegal_transition", f"排队号 {ticket.number} 未在叫号中，不能重新叫号",
                         f"Ticket {ticket.number} is not called; it cannot be recalled",
                         details={"from": state, "to": TicketState.CALLED})
    return ticket_transition(ticket=ticket, to=TicketState.CALLED, actor=actor, actor_label=actor_label,
                             note="recall")


def queue_skip(*, ticket: Ticket, actor=None, actor_label: str = "") -> Ticket:
    """过号: the called student is not there. SKIPPED, then straight back to WAITING behind everyone
    already waiting (fair: a skipped student does not jump the queue when they come back)."""
    with transaction.atomic():
        ticket_transition(ticket=ticket, to=TicketState.SKIPPED, actor=actor, actor_label=actor_label, note="skip")
        return ticket_transition(ticket=ticket, to=TicketState.WAITING, actor=actor, actor_label=actor_label,
                                 note="requeue")


def queue_start(*, ticket: Ticket, actor=None, actor_label: str = "") -> Ticket:
    """The student stands at the camera (CALLED → AT_CAMERA)."""
    return ticket_transition(ticket=ticket, to=TicketState.AT_CAMERA, actor=actor, actor_label=actor_label,
                             note="start")


def queue_finish(*, ticket: Ticket, actor=None, actor_label: str = "") -> Ticket:
    """The photo is accepted (AT_CAMERA → DONE)."""
    return ticket_transition(ticket=ticket, to=TicketState.DONE, actor=actor, actor_label=actor_label,
                             note="finish")


def queue_no_show(*, ticket: Ticket, actor=None, actor_label: str = "") -> Ticket:
    """Mark a waiting ticket as not present (WAITING → NO_SHOW); they are requeued when they turn up."""
    return ticket_transition(ticket=ticket, to=TicketState.NO_SHOW, actor=actor, actor_label=actor_label,
                             note="no_show")


def queue_requeue(*, ticket: Ticket, actor=None, actor_label: str = "") -> Ticket:
    """A no-show turns up: back of the queue (NO_SHOW/SKIPPED → WAITING)."""
    return ticket_transition(ticket=ticket, to=TicketState.WAITING, actor=actor, actor_label=actor_label,
                             note="requeue")
