"""Check-in: numbers per room and day, idempotency (repeat scan, repeat nonce), refusals recorded."""

from __future__ import annotations

import datetime as dt

import pytest

from tucai.campaigns.models import Room, SlotAssignment, TimeSlot
from tucai.capture.models import CheckinScan, Ticket, TicketCounter, TicketState
from tucai.capture.services import codes
from tucai.capture.services.checkin import checkin_perform, slot_warnings, student_paid_status
from tucai.capture.services.queue import queue_call_next, queue_finish, queue_start
from tucai.core.errors import TucaiError


def test_numbers_are_sequential_per_room_and_day(campaign, room, day, coded, institution):
    room2 = Room.objects.create(institution=institution, building="实训楼", name="102")
    got = []
    for _ in range(3):
        s, token = coded()
        got.append(checkin_perform(campaign=campaign, room=room, date=day, raw_code=token, nonce=None).ticket.number)
    s, token = coded()
    other_room = checkin_perform(campaign=campaign, room=room2, date=day, raw_code=token).ticket.number
    s, token = coded()
    next_day = checkin_perform(campaign=campaign, room=room, date=day + dt.timedelta(days=1), raw_code=token)
    assert got == [1, 2, 3] and other_room == 1 and next_day.ticket.number == 1
    assert TicketCounter.objects.get(room=room, date=day).last_number == 3
    t = Ticket.objects.get(number=2, room=room, date=day)
    assert t.state == TicketState.WAITING and t.raw_code.startswith("TC1")


def test_repeat_scan_returns_same_number(campaign, room, day, coded):
    s, token = coded()
    first = checkin_perform(campaign=campaign, room=room, date=day, raw_code=token, nonce="n1")
    again = checkin_perform(campaign=campaign, room=room, date=day, raw_code=token, nonce="n2")
    assert first.result == "issued" and again.result == "repeat" and not again.replayed
    assert again.ticket.pk == first.ticket.pk
    assert Ticket.objects.count() == 1 and CheckinScan.objects.count() == 2


def test_repeat_nonce_returns_first_answer(campaign, room, day, coded):
    s, token = coded()
    first = checkin_perform(campaign=campaign, room=room, date=day, raw_code=token, nonce="desk1-0001")
    again = checkin_perform(campaign=campaign, room=room, date=day, raw_code=token, nonce="desk1-0001")
    assert again.replayed and again.result == "issued" and again.ticket.number == first.ticket.number
    assert CheckinScan.objects.count() == 1
    # A refused scan replays as refused too.
    bad = checkin_perform(campaign=campaign, room=room, date=day, raw_code="TC1XXXX", nonce="desk1-0002")
    bad2 = checkin_perform(campaign=campaign, room=room, date=day, raw_code="TC1XXXX", nonce="desk1-0002")
    assert bad.reason == bad2.reason == "code.forged" and bad2.replayed
    assert CheckinScan.objects.count() == 2


@pytest.mark.parametrize("case", ["unknown", "forged", "revoked", "inactive", "photographed"])
def test_refusals_recorded_with_reason(case, campaign, room, day, coded, operator_user):
    s, token = coded()
    expected = {"unknown": "code.unknown", "forged": "code.forged", "revoked": "code.revoked",
                "inactive": "student.inactive", "photographed": "student.already_photographed"}[case]
    if case == "unknown":
        token = "some-other-qr-text"
    elif case == "forged":
        token = token[:8] + ("AA" if token[8:10] != "AA" else "BB") + token[10:]  # not the padding-only tail
    elif case == "revoked":
        codes.capture_code_issue(student=s)
    elif case == "inactive":
        s.status = "inactive"
        s.save()
    elif case == "photographed":
        # Shot on an earlier day.
        checkin_perform(campaign=campaign, room=room, date=day - dt.timedelta(days=1), raw_code=token)
        t = queue_call_next(campaign=campaign, room=room, date=day - dt.timedelta(days=1))
        queue_finish(ticket=queue_start(ticket=t))
    out = checkin_perform(campaign=campaign, room=room, date=day, raw_code=token, nonce=f"x-{case}",
                          actor=operator_user, desk="A")
    assert out.result == "refused" and out.reason == expected and out.ticket is None
    scan = CheckinScan.objects.get(nonce=f"x-{case}")
    assert (scan.result, scan.reason, scan.desk, scan.actor) == ("refused", expected, "A", operator_user)
    assert scan.raw_code == token.strip()
    assert not Ticket.objects.filter(date=day).exists()
    assert TicketCounter.objects.filter(date=day).count() == 0  # no number consumed


def test_other_campaign_refused(campaign, room, day, coded, institution):
    from tucai.campaigns.models import Campaign

    s, token = coded()
    other = Campaign.objects.create(institution=institution, code="c2", name="c2", graduation_year=2025,
                                    capture_start=day, capture_end=day)
    out = checkin_perform(campaign=other, room=room, date=day, raw_code=token)
    assert out.reason == "code.other_campaign"
    out = checkin_perform(campaign=other, room=room, date=day, student=s)
    assert out.reason == "code.other_campaign"


def test_done_today_is_refused_as_photographed(campaign, room, day, coded):
    s, token = coded()
    checkin_perform(campaign=campaign, room=room, date=day, raw_code=token)
    queue_finish(ticket=queue_start(ticket=queue_call_next(campaign=campaign, room=room, date=day)))
    out = checkin_perform(campaign=campaign, room=room, date=day, raw_code=token)
    assert out.reason == "student.already_photographed"


def test_manual_checkin_and_foreign_code(campaign, room, day, make_student, operator_user):
    s = make_student()
    out = checkin_perform(campaign=campaign, room=room, date=day, student=s, actor=operator_user)
    assert out.result == "issued" and out.scan.code_kind == "manual"
    s2 = make_student()
    chsi = "CHSI-ENCRYPTED-0001"
    assert checkin_perform(campaign=campaign, room=room, date=day, raw_code=chsi).reason == "code.unknown"
    codes.foreign_code_bind(campaign=campaign, raw_token=chsi, student=s2, actor=operator_user)
    out = checkin_perform(campaign=campaign, room=room, date=day, raw_code=chsi)
    assert out.result == "issued" and out.ticket.number == 2 and out.ticket.raw_code == chsi


def test_bad_input(campaign, room, day, make_student):
    s = make_student()
    with pytest.raises(TucaiError) as exc:
        checkin_perform(campaign=campaign, room=room, date=day)
    assert exc.value.code == "checkin.bad_input"
    with pytest.raises(TucaiError) as exc:
        checkin_perform(campaign=campaign, room=room, date=day, student=s, nonce="x" * 65)
    assert exc.value.code == "checkin.bad_nonce"


def test_slot_warnings(campaign, room, day, make_student, school_class, institution):
    s = make_student()
    assert [w["code"] for w in slot_warnings(student=s, room=room, date=day)] == ["slot.none"]
    room2 = Room.objects.create(institution=institution, building="B", name="2")
    slot = TimeSlot.objects.create(campaign=campaign, room=room2, date=day, start=dt.time(8, 0), end=dt.time(9, 0))
    SlotAssignment.objects.create(slot=slot, school_class=school_class)
    s = type(s).objects.select_related("school_class__assignment__slot__room").get(pk=s.pk)
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    late = dt.datetime.combine(day, dt.time(10, 0), tzinfo=tz)
    early = dt.datetime.combine(day, dt.time(6, 0), tzinfo=tz)
    ontime = dt.datetime.combine(day, dt.time(8, 10), tzinfo=tz)
    assert [w["code"] for w in slot_warnings(student=s, room=room, date=day, now=late)] == ["slot.wrong_room",
                                                                                          "slot.late"]
    assert [w["code"] for w in slot_warnings(student=s, room=room2, date=day, now=early)] == ["slot.early"]
    assert slot_warnings(student=s, room=room2, date=day, now=ontime) == []
    assert [w["code"] for w in slot_warnings(student=s, room=room2, date=day + dt.timedelta(days=1))] == [
        "slot.wrong_day"]
    assert student_paid_status(s) is False            # the ledger holds nothing for this student yet
    from tucai.fees.services import payment_record

    payment_record(campaign=campaign, students=[s], method="cash")
    assert student_paid_status(s) is True


def test_the_desk_search_ignores_spaces_in_names(campaign, make_student):
    # Typed "钟 妍佳" (or with a full-width space) finds 钟妍佳; a name stored with a space is found without it.
    from tucai.capture.selectors import student_search

    zhong = make_student(name="钟妍佳")
    smith = make_student(name="John Smith")
    assert student_search(campaign=campaign, query="钟 妍佳") == [zhong]
    assert student_search(campaign=campaign, query="钟\u3000妍佳") == [zhong]
    assert student_search(campaign=campaign, query="JohnSmith") == [smith]
    assert student_search(campaign=campaign, query="John Smith") == [smith]
    assert student_search(campaign=campaign, query="   ") == []
