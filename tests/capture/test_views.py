"""Pages and endpoints: the student's code page, login rate limit, the desk JSON API, display, code sheets."""

from __future__ import annotations

import io
import json

import pytest
import segno
from django.test import Client

from tucai.audit.models import AuditEntry
from tucai.capture.models import CaptureCode, CheckinScan, StudentLoginFailure, Ticket
from tucai.capture.services import codes
from tucai.capture.services.queue import queue_call_next


def login(client, campaign, student, tail=None):
    return client.post(f"/capture/c/{campaign.code}/me/login/",
                       {"student_no": student.student_no, "doc_tail": tail or student.doc_number[-6:]})


def test_student_sees_only_own_code(campaign, make_student):
    a, b = make_student(name="甲"), make_student(name="乙")
    ca, cb = Client(), Client()
    assert ca.get(f"/capture/c/{campaign.code}/me/").status_code == 302  # not signed in
    r = login(ca, campaign, a)
    assert r.status_code == 302 and r["Location"] == f"/capture/c/{campaign.code}/me/"
    page = ca.get(f"/capture/c/{campaign.code}/me/").content.decode()
    token_a = CaptureCode.objects.get(student=a).token
    assert "甲" in page and token_a in page and "<svg" in page and "乙" not in page
    login(cb, campaign, b)
    page_b = cb.get(f"/capture/c/{campaign.code}/me/").content.decode()
    assert "乙" in page_b and token_a not in page_b
    # The URL carries no student id: a's session still shows a, whatever is tried.
    assert "甲" in ca.get(f"/capture/c/{campaign.code}/me/?student={b.pk}").content.decode()


def test_the_sign_in_page_sends_a_signed_in_student_to_the_code_page(campaign, make_student):
    # The browser's Back button after signing in showed the empty form again.
    c = Client()
    assert c.get(f"/capture/c/{campaign.code}/me/login/").status_code == 200
    login(c, campaign, make_student(name="甲"))
    r = c.get(f"/capture/c/{campaign.code}/me/login/")
    assert r.status_code == 302 and r["Location"] == f"/capture/c/{campaign.code}/me/"


def test_doc_tail_case_insensitive_x(campaign, make_student):
    s = make_student(doc_number="43052120020101123X")
    r = login(Client(), campaign, s, tail="01123x")
    assert r.status_code == 302


def test_login_rate_limited_per_student(campaign, make_student):
    s = make_student()
    c = Client()
    for _ in range(5):
        r = login(c, campaign, s, tail="000000")
        assert r.status_code == 200 and 'data-code="login.failed"' in r.content.decode()
    # Locked now, even with the right answer, and also from another address.
    r = login(c, campaign, s)
    assert r.status_code == 429 and 'data-code="login.rate_limited"' in r.content.decode()
    r = Client(REMOTE_ADDR="10.0.0.9").post(f"/capture/c/{campaign.code}/me/login/",
                                            {"student_no": s.student_no, "doc_tail": s.doc_number[-6:]})
    assert r.status_code == 429
    # Another student is not affected.
    other = make_student()
    assert login(Client(REMOTE_ADDR="10.0.0.10"), campaign, other).status_code == 302
    # After the window, the student can sign in again.
    from django.utils import timezone
    import datetime as dt

    StudentLoginFailure.objects.update(at=timezone.now() - dt.timedelta(minutes=11))
    assert login(c, campaign, s).status_code == 302


def test_login_rate_limited_per_ip(campaign, make_student):
    from tucai.capture.services.student_login import MAX_FAILURES_PER_IP

    c = Client(REMOTE_ADDR="10.1.1.1")
    for i in range(MAX_FAILURES_PER_IP):
        c.post(f"/capture/c/{campaign.code}/me/login/", {"student_no": f"guess{i}", "doc_tail": "123456"})
    s = make_student()
    assert login(c, campaign, s).status_code == 429
    assert login(Client(REMOTE_ADDR="10.1.1.2"), campaign, s).status_code == 302


def test_student_status_shows_number_and_place(campaign, room, day, make_student, operator_user):
    from tucai.capture.services.checkin import checkin_perform

    students = [make_student() for _ in range(3)]
    for s in students:
        checkin_perform(campaign=campaign, room=room, date=day, student=s)
    c = Client()
    login(c, campaign, students[2])
    html = c.get(f"/capture/c/{campaign.code}/me/status/").content.decode()
    assert 'id="my-number">3<' in html and "前面还有 2 人" in html
    queue_call_next(campaign=campaign, room=room, date=day)
    queue_call_next(campaign=campaign, room=room, date=day)
    html = c.get(f"/capture/c/{campaign.code}/me/status/").content.decode()
    assert "下一位就是你" in html
    queue_call_next(campaign=campaign, room=room, date=day)
    assert 'data-state="called"' in c.get(f"/capture/c/{campaign.code}/me/status/").content.decode()
    assert Client().get(f"/capture/c/{campaign.code}/me/status/").status_code == 401


def _api(client, payload, html=False):
    return client.post("/capture/api/checkin/" + ("?html=1" if html else ""), json.dumps(payload),
                       content_type="application/json")


def test_api_checkin_json_and_masking(campaign, room, day, make_student, operator_user, office_user):
    s = make_student()
    token = codes.capture_code_issue(student=s).token
    c = Client()
    c.force_login(operator_user)
    base = {"campaign": campaign.pk, "room": room.pk, "date": day.isoformat(), "desk": "A"}
    r = _api(c, {**base, "code": token, "nonce": "n-1"}, html=True)
    data = r.json()
    assert r.status_code == 200 and data["result"] == "issued" and data["number"] == 1
    assert data["student"]["doc_number"] == s.masked_doc_number != s.doc_number
    assert data["student"]["paid"] is False and "html" in data and "未缴" in data["html"]
    assert [w["code"] for w in data["warnings"]] == ["slot.none"]
    # Retry with the same nonce: same answer, no new row.
    r2 = _api(c, {**base, "code": token, "nonce": "n-1"})
    assert r2.json()["number"] == 1 and r2.json()["replayed"] is True
    # Office staff see the full number.
    c.force_login(office_user)
    r3 = _api(c, {**base, "code": token, "nonce": "n-2"})
    assert r3.json()["result"] == "repeat" and r3.json()["student"]["doc_number"] == s.doc_number
    # Refused: 409 with the reason code.
    # (a middle character: the last base32 character may carry only padding bits)
    mid = len(token) // 2
    r4 = _api(c, {**base, "code": token[:mid] + ("Q" if token[mid] != "Q" else "R") + token[mid + 1:],
                  "nonce": "n-3"})
    assert r4.status_code == 409 and r4.json()["reason"] == "code.forged"
    assert CheckinScan.objects.count() == 3
    # Bad input.
    assert _api(c, {**base, "nonce": "n-4", "date": "not-a-date", "code": token}).status_code == 400


def test_api_checkin_requires_permission_and_csrf(campaign, room, day, make_student, operator_user, user_factory):
    s = make_student()
    token = codes.capture_code_issue(student=s).token
    payload = {"campaign": campaign.pk, "room": room.pk, "date": day.isoformat(), "code": token, "nonce": "z"}
    outsider = user_factory("outsider")
    c = Client()
    c.force_login(outsider)
    assert _api(c, payload).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator_user)
    assert _api(strict, payload).status_code == 403  # no CSRF token
    assert not Ticket.objects.exists()


def test_desk_page_and_manual_search_bind(campaign, room, day, make_student, operator_user):
    s = make_student(name="赵六")
    c = Client()
    c.force_login(operator_user)
    page = c.get(f"/capture/desk/{campaign.pk}/{room.pk}/{day.isoformat()}/").content.decode()
    assert 'id="scan-code"' in page and "autofocus" in page and "摄像头扫码" in page
    html = c.get(f"/capture/desk/{campaign.pk}/{room.pk}/{day.isoformat()}/search/",
                 {"q": "赵六", "raw": "CHSI-XYZ"}).content.decode()
    assert s.student_no in html and "绑定此码" in html and s.masked_doc_number in html
    assert AuditEntry.objects.filter(action="student.manual_search", actor=operator_user).exists()
    r = c.post(f"/capture/desk/{campaign.pk}/{room.pk}/{day.isoformat()}/bind/", {"student": s.pk, "raw": "CHSI-XYZ"})
    assert r.json()["ok"] is True
    r = _api(c, {"campaign": campaign.pk, "room": room.pk, "date": day.isoformat(), "code": "CHSI-XYZ", "nonce": "b1"})
    assert r.json()["result"] == "issued" and r.json()["student"]["id"] == s.pk


def test_decode_endpoint_reads_qr(operator_user, make_student):
    c = Client()
    c.force_login(operator_user)
    buf = io.BytesIO()
    segno.make("TC1HELLOWORLD", error="m").save(buf, kind="png", scale=8, border=4)
    buf.seek(0)
    buf.name = "frame.png"
    r = c.post("/capture/api/decode/", {"frame": buf})
    assert r.json() == {"ok": True, "text": "TC1HELLOWORLD", "all": ["TC1HELLOWORLD"]}
    bad = io.BytesIO(b"not an image")
    bad.name = "x.jpg"
    assert c.post("/capture/api/decode/", {"frame": bad}).status_code == 400


def test_display_is_public_and_shows_numbers(campaign, room, day, make_student):
    from tucai.capture.services.checkin import checkin_perform

    students = [make_student(name=f"显示{i}") for i in range(4)]
    for s in students:
        checkin_perform(campaign=campaign, room=room, date=day, student=s)
    queue_call_next(campaign=campaign, room=room, date=day)
    c = Client()
    assert c.get(f"/capture/display/{room.pk}/{day.isoformat()}/").status_code == 200
    html = c.get(f"/capture/display/{room.pk}/{day.isoformat()}/board/").content.decode()
    assert 'class="serving-number called" data-number="1"' in html
    assert [int(x) for x in __import__("re").findall(r'next-number" data-number="(\d+)"', html)] == [2, 3, 4]
    assert "显示" not in html  # numbers only on a public screen


def test_code_sheet_and_reissue_revoke(campaign, school_class, make_student, office_user, operator_user):
    a, b = make_student(name="打印甲"), make_student(name="打印乙")
    c = Client()
    c.force_login(operator_user)
    html = c.get(f"/capture/c/{campaign.code}/codes/class/{school_class.pk}/").content.decode()
    assert html.count('class="code-card"') == 2 and "打印甲" in html and html.count("<svg") == 2
    old = CaptureCode.objects.get(student=a)
    r = c.post(f"/capture/c/{campaign.code}/codes/student/{a.pk}/reissue/", {"reason": "截图外泄"})
    assert r.status_code == 302
    assert codes.code_resolve(campaign=campaign, raw_code=old.token).reason == "code.revoked"
    r = c.post(f"/capture/c/{campaign.code}/codes/student/{b.pk}/revoke/", {"reason": "手机丢失"})
    assert CaptureCode.objects.get(student=b).revoked_at is not None
    assert AuditEntry.objects.filter(action="capture_code.revoke", actor=operator_user).count() == 1
    page = c.get(f"/capture/c/{campaign.code}/codes/student/{b.pk}/").content.decode()
    assert "已作废" in page and "手机丢失" in page


def test_desk_index_and_queue_page(campaign, room, day, operator_user, user_factory):
    c = Client()
    c.force_login(operator_user)
    html = c.get(f"/capture/c/{campaign.code}/desk/").content.decode()
    assert f"/capture/desk/{campaign.pk}/{room.pk}/" in html and f"/capture/display/{room.pk}/" in html
    html = c.get(f"/capture/queue/{room.pk}/{day.isoformat()}/").content.decode()
    assert f"/capture/queue/{room.pk}/{day.isoformat()}/controls/" in html
    assert c.get(f"/capture/c/{campaign.code}/codes/", {"q": "x"}).status_code == 200
    outsider = user_factory("nobody")
    c.force_login(outsider)
    for url in (f"/capture/c/{campaign.code}/desk/", f"/capture/queue/{room.pk}/{day.isoformat()}/",
                f"/capture/c/{campaign.code}/codes/", f"/capture/desk/{campaign.pk}/{room.pk}/{day.isoformat()}/"):
        assert c.get(url).status_code == 403, url


def test_client_ip_trusts_forwarded_for_only_when_configured(rf, settings):
    from tucai.capture.services.student_login import client_ip

    req = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.5", REMOTE_ADDR="127.0.0.1")
    assert client_ip(req) == "127.0.0.1"  # a client can forge the header
    settings.TUCAI_TRUSTED_PROXIES = 1
    assert client_ip(req) == "10.0.0.5"  # what our one proxy saw


def test_display_separates_campaigns_sharing_a_room(campaign, department, room, day, make_student):
    """Numbers are per campaign, room and day: two campaigns in one room both have a number 1, so the
    board shows each campaign's queue under its name, and ``?campaign=`` shows one of them."""
    import re

    from tucai.campaigns.models import Campaign, SchoolClass
    from tucai.capture.services.checkin import checkin_perform

    other = Campaign.objects.create(institution=campaign.institution, code="resit-2024", name="补拍专场",
                                    graduation_year=2024, capture_start=day, capture_end=day)
    other_class = SchoolClass.objects.create(campaign=other, department=department, name="补拍班")
    for s in [make_student(name=f"甲{i}") for i in range(2)]:
        checkin_perform(campaign=campaign, room=room, date=day, student=s)
    checkin_perform(campaign=other, room=room, date=day,
                    student=make_student(name="乙", campaign=other, school_class=other_class, student_no="2099001"))
    queue_call_next(campaign=other, room=room, date=day)
    c = Client()
    url = f"/capture/display/{room.pk}/{day.isoformat()}/board/"

    html = c.get(url).content.decode()
    blocks = html.split('<div class="board')[1:]
    by_campaign = {int(re.search(r'data-campaign="(\d+)"', b).group(1)): b for b in blocks}
    assert list(by_campaign) == sorted([campaign.pk, other.pk])
    assert campaign.name in by_campaign[campaign.pk] and "补拍专场" in by_campaign[other.pk]
    assert re.findall(r'next-number" data-number="(\d+)"', by_campaign[campaign.pk]) == ["1", "2"]
    assert 'class="serving-number called" data-number="1"' in by_campaign[other.pk]

    only = c.get(url, {"campaign": campaign.pk}).content.decode()
    assert "补拍专场" not in only and "board-campaign" not in only  # one queue: no heading needed
    assert re.findall(r'next-number" data-number="(\d+)"', only) == ["1", "2"]
    assert "serving-number called" not in only
    assert c.get(url, {"campaign": "x"}).status_code == 404
    assert c.get(url, {"campaign": "9" * 30}).status_code == 404      # past 64 bits: not a 500
    assert c.get(url, {"campaign": "-1"}).status_code == 404
    page = c.get(f"/capture/display/{room.pk}/{day.isoformat()}/", {"campaign": other.pk}).content.decode()
    assert f"board/?campaign={other.pk}" in page


def test_display_board_queries_stay_few(campaign, room, day, make_student):
    """Polled every second by every screen: the campaigns of a room's day are read with one DISTINCT
    (not one row per ticket), plus two small queries per campaign."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tucai.capture import selectors
    from tucai.capture.services.checkin import checkin_perform

    for s in [make_student() for _ in range(5)]:
        checkin_perform(campaign=campaign, room=room, date=day, student=s)
    with CaptureQueriesContext(connection) as q:
        board = selectors.queue_board(room=room, date=day)
    assert [b["campaign_id"] for b in board["boards"]] == [campaign.pk]
    distinct = next(x["sql"] for x in q.captured_queries if "DISTINCT" in x["sql"].upper())
    assert "JOIN" not in distinct.upper() and "ORDER BY" not in distinct.upper()
    assert len(q.captured_queries) <= 4
