"""The number allocation itself (one statement on PostgreSQL, one IMMEDIATE transaction of three
statements on SQLite): the rows it writes, requeued tickets kept ahead, and no gap when the
ticket cannot be written (the student was checked in at another desk at the same instant)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from tucai.capture.models import CheckinScan, CodeKind, Ticket, TicketCounter
from tucai.capture.services.checkin import _allocate, checkin_perform


def _fields(campaign, room, day, nonce):
    return dict(campaign=campaign, room=room, date=day, raw_code="raw", code_kind=CodeKind.TUCAI, desk="A",
                nonce=nonce, actor=None, actor_label="")


def test_allocation_writes_ticket_and_scan(campaign, room, day, make_student):
    s1, s2 = make_student(), make_student()
    o1 = _allocate(_fields(campaign, room, day, "a1"), student=s1, campaign=campaign, room=room, date=day,
                   raw="raw", warnings=[{"code": "slot.none", "message": "该班级未安排拍摄时段"}], known=(None, False))
    o2 = _allocate(_fields(campaign, room, day, "a2"), student=s2, campaign=campaign, room=room, date=day,
                   raw="raw", warnings=[], known=(None, False))
    assert (o1.result, o1.ticket.number, o2.ticket.number) == ("issued", 1, 2)
    t = Ticket.objects.get(pk=o1.ticket.pk)
    assert (t.number, t.student_id, t.room_id, t.date, t.state, t.queue_order, t.raw_code) == (
        1, s1.pk, room.pk, day, "waiting", 1, "raw")
    assert t.checked_in_at == o1.ticket.checked_in_at
    scan = CheckinScan.objects.get(pk=o1.scan.pk)
    assert (scan.ticket_id, scan.student_id, scan.result, scan.nonce, scan.warnings) == (
        t.pk, s1.pk, "issued", "a1", [{"code": "slot.none", "message": "该班级未安排拍摄时段"}])
    assert scan.created_at == o1.scan.created_at
    assert TicketCounter.objects.get(campaign=campaign, room=room, date=day).last_number == 2


def test_new_arrival_queues_behind_a_requeued_ticket(campaign, room, day, make_student):
    from tucai.capture.state import ticket_transition

    first = checkin_perform(campaign=campaign, room=room, date=day, student=make_student()).ticket
    for state in ("called", "skipped", "waiting"):    # skipped, then requeued: moved past the end (2)
        ticket_transition(ticket=first, to=state)
    assert Ticket.objects.get(pk=first.pk).queue_order == 2
    o = _allocate(_fields(campaign, room, day, "b"), student=make_student(), campaign=campaign, room=room, date=day,
                  raw="", warnings=[], known=(None, False))
    assert (o.ticket.number, o.ticket.queue_order) == (2, 3)
    assert TicketCounter.objects.get(campaign=campaign, room=room, date=day).last_queue_order == 3


def test_failed_ticket_insert_leaves_no_gap(campaign, room, day, make_student):
    s = make_student()
    checkin_perform(campaign=campaign, room=room, date=day, student=s)  # number 1
    # As if another desk checked the same student in between the look-up and the allocation.
    with pytest.raises(IntegrityError):
        _allocate(_fields(campaign, room, day, "c"), student=s, campaign=campaign, room=room, date=day, raw="",
                  warnings=[], known=(None, False))
    assert TicketCounter.objects.get(campaign=campaign, room=room, date=day).last_number == 1
    assert not CheckinScan.objects.filter(nonce="c").exists()
    nxt = checkin_perform(campaign=campaign, room=room, date=day, student=make_student()).ticket
    assert nxt.number == 2
