"""The desk-token check-in API: signed, bound to campaign/room/day, revocable; same rules as the
session API (numbers, repeats, nonces, refusals with reason codes, masked IDs)."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tucai.audit.models import AuditEntry
from tucai.campaigns.models import Campaign, Room, SlotAssignment, TimeSlot
from tucai.capture.models import CheckinScan, DeskToken, Ticket, TicketCounter
from tucai.capture.services import codes
from tucai.capture.services.checkin import DeskRefused, checkin_perform, checkin_perform_desk
from tucai.capture.services.desk import (desk_token_issue, desk_token_parse, desk_token_revoke,
                                         desk_token_string)
from tucai.capture.services.queue import queue_call_next, queue_finish, queue_start
from tucai.core.errors import TucaiError

URL = "/capture/api/desk/checkin/"


@pytest.fixture
def desk(campaign, room, day, operator_user):
    token, text = desk_token_issue(user=operator_user, campaign=campaign, room=room, date=day, desk="A")
    return token, text


def post(text, body, client=None):
    client = client or Client(enforce_csrf_checks=True)  # no CSRF token and no cookie: the header is enough
    kw = {"HTTP_AUTHORIZATION": f"Desk {text}"} if text is not None else {}
    r = client.post(URL, data=json.dumps(body), content_type="application/json", **kw)
    return r.status_code, r.json()


def test_url_name_resolves():
    assert reverse("capture:api_desk_checkin") == URL


def test_checkin_issue_repeat_and_nonce_replay(desk, coded, room, day, operator_user):
    token, text = desk
    s, code = coded()
    status, first = post(text, {"code": code, "nonce": "n1"})
    assert status == 200 and first["result"] == "issued" and first["number"] == 1
    assert first["student"]["name"] == s.name and first["student"]["doc_number"] == s.masked_doc_number
    assert first["ticket_room"] == str(room)
    status, again = post(text, {"code": code, "nonce": "n2"})
    assert status == 200 and again["result"] == "repeat" and again["number"] == 1 and not again["replayed"]
    status, retry = post(text, {"code": code, "nonce": "n1"})
    assert status == 200 and retry["replayed"] and retry["result"] == "issued" and retry["scan_id"] == first["scan_id"]
    s2, code2 = coded()
    assert post(text, {"code": code2, "nonce": "n3"})[1]["number"] == 2
    assert Ticket.objects.filter(room=room, date=day).count() == 2
    scans = list(CheckinScan.objects.order_by("pk").values_list("nonce", "result", "actor_id", "desk", "date"))
    assert scans == [("n1", "issued", operator_user.pk, "A", day), ("n2", "repeat", operator_user.pk, "A", day),
                     ("n3", "issued", operator_user.pk, "A", day)]
    assert TicketCounter.objects.get(room=room, date=day).last_number == 2


def test_office_sees_full_id_and_slot_warnings(campaign, room, day, coded, office_user, institution):
    other = Room.objects.create(institution=institution, building="实训楼", name="305")
    s, code = coded()
    slot = TimeSlot.objects.create(campaign=campaign, room=other, date=day, start=dt.time(8), end=dt.time(9))
    SlotAssignment.objects.create(slot=slot, school_class=s.school_class)
    _, text = desk_token_issue(user=office_user, campaign=campaign, room=room, date=day)
    status, data = post(text, {"code": code, "nonce": "x"})
    assert status == 200 and data["student"]["doc_number"] == s.doc_number
    assert data["student"]["slot"]["room"] == str(other)
    assert "slot.wrong_room" in {w["code"] for w in data["warnings"]}
    assert CheckinScan.objects.get(nonce="x").warnings == data["warnings"]


@pytest.mark.django_db(transaction=True)  # autocommit, as in the server
def test_one_lookup_and_one_allocation_per_checkin(desk, coded):
    _, text = desk
    s, code = coded()
    post(text, {"code": coded()[1]})  # first use on this connection prepares the statements
    with CaptureQueriesContext(connection) as q:
        status, data = post(text, {"code": code, "nonce": "q"})
    assert status == 200 and data["result"] == "issued"
    sqls = [x["sql"] for x in q.captured_queries]
    # Desk token, user, role, code, student, class, slot and today's ticket: one query.
    assert "capture_desktoken" in sqls[0] and "capture_capturecode" in sqls[0]
    assert not any("capture_capturecode" in x or "accounts_membership" in x or "django_session" in x
                   for x in sqls[1:])
    if connection.vendor == "postgresql":
        assert len(sqls) == 2, sqls  # the allocation is one statement (counter, ticket, scan)


@pytest.mark.parametrize("case", ["unknown", "forged", "revoked", "inactive", "photographed", "other_campaign"])
def test_refusals_recorded_with_reason(case, desk, coded, campaign, room, day, institution, operator_user):
    _, text = desk
    s, code = coded()
    expected = {"unknown": "code.unknown", "forged": "code.forged", "revoked": "code.revoked",
                "inactive": "student.inactive", "photographed": "student.already_photographed",
                "other_campaign": "code.other_campaign"}[case]
    if case == "unknown":
        code = "some-other-qr-text"
    elif case == "forged":
        code = code[:-2] + ("AA" if not code.endswith("AA") else "BB")
    elif case == "revoked":
        codes.capture_code_issue(student=s)
    elif case == "inactive":
        s.status = "inactive"
        s.save()
    elif case == "photographed":
        earlier = day - dt.timedelta(days=1)
        checkin_perform(campaign=campaign, room=room, date=earlier, raw_code=code)
        queue_finish(ticket=queue_start(ticket=queue_call_next(campaign=campaign, room=room, date=earlier)))
    elif case == "other_campaign":
        other = Campaign.objects.create(institution=institution, code="c2", name="c2", graduation_year=2025,
                                        capture_start=day, capture_end=day)
        from tucai.campaigns.models import SchoolClass

        cls = SchoolClass.objects.create(campaign=other, department=s.school_class.department, name="x")
        s = coded(campaign=other, school_class=cls)[0]
        code = codes.capture_code_issue(student=s).token
    status, data = post(text, {"code": code, "nonce": f"x-{case}"})
    assert status == 409 and data["result"] == "refused" and data["reason"] == expected
    scan = CheckinScan.objects.get(nonce=f"x-{case}")
    assert (scan.result, scan.reason, scan.actor_id, scan.room_id, scan.date) == (
        "refused", expected, operator_user.pk, room.pk, day)
    assert not Ticket.objects.filter(date=day).exists()
    # A retried refused submission replays the first answer and adds no row.
    assert post(text, {"code": code, "nonce": f"x-{case}"})[1]["replayed"]
    assert CheckinScan.objects.filter(nonce=f"x-{case}").count() == 1


def test_manual_checkin_and_bound_foreign_code(desk, campaign, make_student):
    _, text = desk
    s = make_student()
    status, data = post(text, {"student": s.pk, "nonce": "m1"})
    assert status == 200 and data["result"] == "issued"
    assert CheckinScan.objects.get(nonce="m1").code_kind == "manual"
    s2 = make_student()
    codes.foreign_code_bind(campaign=campaign, raw_token="CHSI-123", student=s2)
    status, data = post(text, {"code": "CHSI-123", "nonce": "f1"})
    assert status == 200 and data["student"]["id"] == s2.pk
    assert CheckinScan.objects.get(nonce="f1").code_kind == "foreign"


def test_token_binds_campaign_room_and_day(desk, coded, institution, room, day, campaign):
    """The body's campaign/room/date are ignored: the token decides where the number is issued."""
    _, text = desk
    room2 = Room.objects.create(institution=institution, building="实训楼", name="102")
    s, code = coded()
    status, data = post(text, {"code": code, "room": room2.pk, "date": "2030-01-01", "campaign": 999})
    assert status == 200
    t = Ticket.objects.get(pk=data["ticket_id"])
    assert (t.room_id, t.date, t.campaign_id) == (room.pk, day, campaign.pk)


@pytest.mark.parametrize("case", ["missing", "garbage", "forged_mac", "other_room", "session_only"])
def test_bad_tokens_refused_without_a_scan(case, desk, coded, institution, operator_user):
    token, text = desk
    s, code = coded()
    client = None
    if case == "missing":
        text = None
    elif case == "garbage":
        text = "DK1.abc"
    elif case == "forged_mac":
        body, mac = text[4:].split(".")
        text = "DK1." + body + "." + ("A" if mac[0] != "A" else "B") + mac[1:]
    elif case == "other_room":
        # Same MAC, payload altered to another room: the signature no longer matches.
        room2 = Room.objects.create(institution=institution, building="实训楼", name="102")
        real = DeskToken.objects.get(pk=token.pk)
        real.room_id = room2.pk
        forged = desk_token_string(token=real)
        text = forged.split(".")[0] + "." + forged.split(".")[1] + "." + text.split(".")[2]
    elif case == "session_only":
        # A logged-in operator's browser without the header: the cookie alone is not accepted here.
        client = Client(enforce_csrf_checks=True)
        client.force_login(operator_user)
        text = None
    status, data = post(text, {"code": code, "nonce": "b"}, client=client)
    assert status == 401 and data["code"] in ("desk.token_missing", "desk.token_invalid")
    assert not CheckinScan.objects.exists() and not Ticket.objects.exists()


@pytest.mark.parametrize("case", ["revoked", "expired", "role_removed", "user_inactive"])
def test_token_stops_working(case, desk, coded, operator_user, office_user):
    token, text = desk
    assert post(text, {"code": coded()[1]})[0] == 200
    if case == "revoked":
        desk_token_revoke(token=token, actor=office_user)
    elif case == "expired":
        DeskToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    elif case == "role_removed":
        operator_user.memberships.all().delete()
    elif case == "user_inactive":
        operator_user.is_active = False
        operator_user.save()
    status, data = post(text, {"code": coded()[1], "nonce": "after"})
    assert status == 401 and data["code"] == "desk.token_revoked"
    assert not CheckinScan.objects.filter(nonce="after").exists()
    assert Ticket.objects.count() == 1


def test_issue_and_revoke_need_checkin_permission_and_are_audited(campaign, room, day, institution,
                                                                  operator_user, user_factory):
    monitor = user_factory("monitor", institution=institution, role="monitor")
    with pytest.raises(TucaiError):
        desk_token_issue(user=monitor, campaign=campaign, room=room, date=day)
    token, text = desk_token_issue(user=operator_user, campaign=campaign, room=room, date=day, desk="B")
    with pytest.raises(TucaiError):
        desk_token_revoke(token=token, actor=monitor)
    desk_token_revoke(token=token, actor=operator_user)
    actions = list(AuditEntry.objects.filter(entity_type="capture.desktoken").values_list("action", flat=True))
    assert sorted(actions) == ["desk_token.issue", "desk_token.revoke"]
    claims = desk_token_parse(header=f"Desk {text}")
    assert (claims.token_id, claims.campaign_id, claims.room_id, claims.date) == (token.pk, campaign.pk, room.pk, day)
    with pytest.raises(DeskRefused):
        checkin_perform_desk(claims=claims, raw_code="TC1X")


def test_desk_page_changes_nothing_and_its_script_gets_the_token_by_post(campaign, room, day, operator_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    page = reverse("capture:desk", args=[campaign.pk, room.pk, day.isoformat()]) + "?desk=A"
    r = client.get(page)
    assert r.status_code == 200 and not DeskToken.objects.exists()  # opening the page issues nothing
    token_url = reverse("capture:desk_token", args=[campaign.pk, room.pk, day.isoformat()])
    assert token_url in r.content.decode()
    assert client.post(token_url, {"desk": "A"}).status_code == 403  # no CSRF token: refused
    assert client.get(token_url).status_code == 405
    csrf = client.cookies["csrftoken"].value
    r = client.post(token_url, {"desk": "A"}, HTTP_X_CSRFTOKEN=csrf)
    assert r.status_code == 200 and r.json()["ok"]
    token = DeskToken.objects.get()
    assert (token.user, token.room, token.date, token.desk) == (operator_user, room, day, "A")
    assert r.json()["token"] == desk_token_string(token=token)
    # A reload keeps the desk's token (no new live token per page view) ...
    assert client.post(token_url, {"desk": "A"}, HTTP_X_CSRFTOKEN=csrf).json()["id"] == token.pk
    assert DeskToken.objects.count() == 1
    r = client.post(reverse("capture:desk_token_revoke", args=[token.pk]), HTTP_X_CSRFTOKEN=csrf)
    assert r.status_code == 200 and r.json()["revoked"]
    token.refresh_from_db()
    assert token.revoked_at is not None
    # ... and once revoked, the next one is fresh.
    client.post(token_url, {"desk": "A"}, HTTP_X_CSRFTOKEN=csrf)
    assert DeskToken.objects.filter(revoked_at__isnull=True).count() == 1 and DeskToken.objects.count() == 2


def test_a_monitor_gets_no_desk_token(campaign, room, day, institution, user_factory):
    monitor = user_factory("monitor", institution=institution, role="monitor")
    client = Client()
    client.force_login(monitor)
    r = client.post(reverse("capture:desk_token", args=[campaign.pk, room.pk, day.isoformat()]), {"desk": "A"})
    assert r.status_code == 403 and not DeskToken.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_64_parallel_desk_checkins_one_number_each_no_gaps(campaign, room, day, make_student, institution,
                                                           operator_user):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency test needs PostgreSQL (set TUCAI_DATABASE_URL=postgres://...)")
    room_b = Room.objects.create(institution=institution, building="实训楼", name="102")
    desks = {r.pk: desk_token_parse(header="Desk " + desk_token_issue(user=operator_user, campaign=campaign,
                                                                      room=r, date=day)[1])
             for r in (room, room_b)}
    students = [make_student() for _ in range(40)]
    tokens = {s.pk: codes.capture_code_issue(student=s).token for s in students}
    jobs = [(s.pk, room.pk, f"first-{s.pk}") for s in students]
    rng = random.Random(7)
    for i, s in enumerate(rng.sample(students, 16)):
        jobs.append((s.pk, room_b.pk if i < 6 else room.pk, f"repeat-{s.pk}"))
    for s in rng.sample(students, 8):
        jobs.append((s.pk, room.pk, f"first-{s.pk}"))
    rng.shuffle(jobs)
    barrier = threading.Barrier(len(jobs))

    def run(job):
        student_id, room_id, nonce = job
        try:
            barrier.wait(timeout=30)
            out = checkin_perform_desk(claims=desks[room_id], raw_code=tokens[student_id], nonce=nonce).outcome
            return student_id, nonce, out.result, out.ticket.room_id, out.ticket.number
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(run, jobs))
    by_student, by_nonce = defaultdict(set), defaultdict(set)
    for student_id, nonce, result, room_id, number in results:
        assert result in ("issued", "repeat")
        by_student[student_id].add((room_id, number))
        by_nonce[nonce].add((room_id, number))
    assert all(len(v) == 1 for v in by_student.values()) and all(len(v) == 1 for v in by_nonce.values())
    tickets = list(Ticket.objects.filter(campaign=campaign, date=day))
    assert len(tickets) == 40 and len({t.student_id for t in tickets}) == 40
    for r in (room, room_b):
        numbers = sorted(t.number for t in tickets if t.room_id == r.pk)
        assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert CheckinScan.objects.filter(campaign=campaign).count() == len(by_nonce)


@pytest.mark.django_db(transaction=True)
def test_paid_status_comes_with_the_lookup(desk, coded, campaign):
    """The desk shows whether the fee is paid (the ledger, tucai.fees) without another round trip."""
    from tucai.fees.services import payment_record, payment_void

    _, text = desk
    unpaid_s, unpaid_code = coded()
    paid_s, paid_code = coded()
    payment = payment_record(campaign=campaign, students=[paid_s], method="cash")
    post(text, {"code": coded()[1]})  # prepares the statements
    with CaptureQueriesContext(connection) as q:
        _, paid = post(text, {"code": paid_code})
    assert paid["student"]["paid"] is True
    assert not any("fees_" in x["sql"] and "capture_desktoken" not in x["sql"] for x in q.captured_queries)
    assert post(text, {"code": unpaid_code})[1]["student"]["paid"] is False
    payment_void(payment=payment, reason="记错学生", actor=None)
    assert post(text, {"code": paid_code})[1]["student"]["paid"] is False   # a repeat scan reads it again
