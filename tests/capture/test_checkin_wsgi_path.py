"""The desk-token API as the server runs it: ``tucai.wsgi.application`` sends its exact path to a
second Django handler without the session, CSRF, auth and messages middleware. The API must
behave the same there (numbers, repeats, replays, refusals, revoked tokens), keep host validation,
security headers and the language, and every other path must keep the full stack (CSRF)."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from tucai.capture.models import CheckinScan, DeskToken, Ticket
from tucai.capture.services import codes
from tucai.capture.services.desk import desk_token_issue, desk_token_revoke

URL = "/capture/api/desk/checkin/"


@pytest.fixture
def wsgi():
    """call(path, body=None, headers={}, method="POST") → (status, headers, json) through tucai.wsgi.

    Like Django's test client, the request signals leave the test's transaction alone."""
    from tucai import wsgi as entry

    def call(path, body=None, headers=None, method="POST", host="127.0.0.1:8000"):
        raw = json.dumps(body).encode() if body is not None else b""
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
                   "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": host,
                   "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_TYPE": "application/json",
                   "CONTENT_LENGTH": str(len(raw)), "wsgi.input": io.BytesIO(raw), "wsgi.url_scheme": "http",
                   "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
                   "wsgi.run_once": False, "wsgi.version": (1, 0)}
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        started = []
        out = entry.application(environ, lambda status, hdrs, exc=None: started.append((status, hdrs)))
        try:
            payload = b"".join(out)
        finally:
            if hasattr(out, "close"):
                out.close()
        status, hdrs = started[0]
        try:
            data = json.loads(payload)
        except ValueError:
            data = None
        return int(status.split()[0]), {k.lower(): v for k, v in hdrs}, data

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield call
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def desk(campaign, room, day, operator_user):
    return desk_token_issue(user=operator_user, campaign=campaign, room=room, date=day, desk="A")


def test_api_paths_are_the_desk_endpoint_and_skip_only_cookie_layers():
    from tucai import wsgi as entry

    assert entry.API_PATHS == {reverse("capture:api_desk_checkin")}
    skipped = set(settings.MIDDLEWARE) - set(entry.API_MIDDLEWARE)
    assert skipped == {"whitenoise.middleware.WhiteNoiseMiddleware",
                       "django.contrib.sessions.middleware.SessionMiddleware",
                       "django.middleware.csrf.CsrfViewMiddleware",
                       "django.contrib.auth.middleware.AuthenticationMiddleware",
                       "django.contrib.messages.middleware.MessageMiddleware"}
    # Same order as the full stack for what remains, and that is what the handler runs.
    assert entry.API_MIDDLEWARE == [m for m in settings.MIDDLEWARE if m not in skipped]
    chain, names = entry.api_application._middleware_chain, []
    while hasattr(chain, "__wrapped__") or hasattr(chain, "get_response"):
        chain = getattr(chain, "__wrapped__", chain)
        if not hasattr(chain, "get_response"):
            break
        names.append(f"{type(chain).__module__}.{type(chain).__name__}")
        chain = chain.get_response
    assert names == entry.API_MIDDLEWARE


def test_issue_repeat_replay_through_the_lean_handler(wsgi, desk, coded, room, day, operator_user):
    _, text = desk
    s, code = coded()
    auth = {"Authorization": f"Desk {text}"}
    status, headers, first = wsgi(URL, {"code": code, "nonce": "w1"}, auth)
    assert status == 200 and first["result"] == "issued" and first["number"] == 1
    assert first["student"]["doc_number"] == s.masked_doc_number
    # The security headers of the full stack are still set; no session cookie is.
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in headers
    status, _, again = wsgi(URL, {"code": code, "nonce": "w2"}, auth)
    assert status == 200 and again["result"] == "repeat" and again["number"] == 1
    status, _, retry = wsgi(URL, {"code": code, "nonce": "w1"}, auth)
    assert retry["replayed"] and retry["scan_id"] == first["scan_id"]
    assert list(CheckinScan.objects.order_by("pk").values_list("nonce", "result", "actor_id")) == [
        ("w1", "issued", operator_user.pk), ("w2", "repeat", operator_user.pk)]
    assert Ticket.objects.filter(room=room, date=day).count() == 1


def test_refused_and_revoked_through_the_lean_handler(wsgi, desk, coded, operator_user):
    token, text = desk
    auth = {"Authorization": f"Desk {text}"}
    status, _, data = wsgi(URL, {"code": "some-other-qr-text", "nonce": "u"}, auth)
    assert status == 409 and data["reason"] == "code.unknown"
    assert CheckinScan.objects.get(nonce="u").reason == "code.unknown"
    desk_token_revoke(token=token, actor=operator_user)
    status, _, data = wsgi(URL, {"code": coded()[1], "nonce": "r"}, auth)
    assert status == 401 and data["code"] == "desk.token_revoked"
    assert not CheckinScan.objects.filter(nonce="r").exists()


def test_session_cookie_alone_does_not_authorise_the_api(wsgi, client, operator_user, coded):
    client.force_login(operator_user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    status, _, data = wsgi(URL, {"code": coded()[1], "nonce": "c"}, {"Cookie": cookie})
    assert status == 401 and data["code"] == "desk.token_missing"


def test_host_validation_and_language_kept(wsgi, desk, coded):
    _, text = desk
    auth = {"Authorization": f"Desk {text}"}
    status, _, _ = wsgi(URL, {"code": coded()[1], "nonce": "h"}, auth, host="evil.example")
    assert status == 400  # DisallowedHost, before the view runs
    assert not CheckinScan.objects.filter(nonce="h").exists()
    status, headers, data = wsgi(URL, {"code": "other-text", "nonce": "en"}, {**auth, "Accept-Language": "en"})
    assert status == 409 and data["message"].startswith("Unknown code") and headers["content-language"] == "en"
    status, _, data = wsgi(URL, {"code": "other-text-2", "nonce": "zh"}, auth)
    assert data["message"].startswith("无法识别")


def test_other_paths_keep_the_full_stack(wsgi, operator_user, campaign, room, day):
    """The session API next to it still demands a CSRF token."""
    client = Client()
    client.force_login(operator_user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    body = {"campaign": campaign.pk, "room": room.pk, "date": day.isoformat(), "code": "x", "nonce": "s"}
    status, _, _ = wsgi(reverse("capture:api_checkin"), body, {"Cookie": cookie})
    assert status == 403
    assert not CheckinScan.objects.filter(nonce="s").exists()


def test_replayed_answer_brings_the_slot_in_the_same_query(wsgi, desk, coded, campaign, room, day):
    """A retried submission (same nonce) answers from the recorded scan with one read, slot included."""
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tucai.campaigns.models import SlotAssignment, TimeSlot

    _, text = desk
    s, code = coded()
    slot = TimeSlot.objects.create(campaign=campaign, room=room, date=day, start=dt.time(8), end=dt.time(9))
    SlotAssignment.objects.create(slot=slot, school_class=s.school_class)
    auth = {"Authorization": f"Desk {text}"}
    first = wsgi(URL, {"code": code, "nonce": "rp"}, auth)[2]
    with CaptureQueriesContext(connection) as q:
        status, _, again = wsgi(URL, {"code": code, "nonce": "rp"}, auth)
    assert status == 200 and again["replayed"] and again["number"] == first["number"]
    assert again["student"]["slot"] == first["student"]["slot"] == {
        "date": day.isoformat(), "start": "08:00", "end": "09:00", "room": str(room)}
    reads = [x["sql"] for x in q.captured_queries if x["sql"].lstrip().upper().startswith("SELECT")]
    assert not any(x.split(" FROM ")[1].startswith('"campaigns_slotassignment"') for x in reads if " FROM " in x), reads


# --- bad input and nonces (from a review of this endpoint) ----------------------------------------

def _raw(text, raw: bytes):
    from django.test import Client

    r = Client(enforce_csrf_checks=True).post(URL, data=raw, content_type="application/json",
                                              HTTP_AUTHORIZATION=f"Desk {text}")
    return r.status_code, r.json()


@pytest.mark.parametrize("raw", [b"[" * 200000, b'{"student": 1e400}', b'{"student": 1000000000000000000000000000000}',
                                 b'{"student": -5}'])
def test_hostile_bodies_are_refused_not_500(desk, raw):
    status, data = _raw(desk[1], raw)
    assert status == 400 and data["code"].startswith("checkin."), data


@pytest.mark.parametrize("field", ["code", "nonce"])
def test_a_nul_character_is_refused_on_every_database(desk, coded, field):
    """PostgreSQL text cannot hold NUL: refused as bad input (400), on SQLite too, and nothing recorded."""
    _, code = coded()
    body = {"code": code, "nonce": "nul-1", "desk": "A"}
    body[field] = body[field][:3] + "\x00" + body[field][3:]
    status, data = _raw(desk[1], json.dumps(body).encode())
    assert status == 400 and data["code"] == "checkin.bad_request"
    assert not CheckinScan.objects.filter(nonce__startswith="nul").exists() and not Ticket.objects.exists()


def test_scans_carry_the_desk_name_of_the_token_not_of_the_body(desk, coded):
    """The token was issued to a named desk; a request cannot rename it in the record (not even with
    a NUL the database could not store: the body's name is not used at all)."""
    token = DeskToken.objects.get()
    for i, name in enumerate(["Z-forged", "bad\x00name"]):
        status, data = _raw(desk[1], json.dumps({"code": coded()[1], "nonce": f"label-{i}", "desk": name}).encode())
        assert status == 200 and data["result"] == "issued", data
    assert set(CheckinScan.objects.values_list("desk", flat=True)) == {token.desk}


def test_another_desks_nonce_is_refused_not_answered(wsgi, desk, coded, day, make_student):
    """Nonces are unique across all scans; a desk that sends one recorded by a desk of another campaign
    (or institution) must not get that desk's answer (its student's name, number, room)."""
    from tucai.accounts.models import Membership, User
    from tucai.campaigns.models import Campaign, Department, Institution, Room, SchoolClass, Student

    inst = Institution.objects.create(code="other", name="别的学院")
    camp = Campaign.objects.create(institution=inst, code="other-2024", name="o", graduation_year=2024,
                                   capture_start=day, capture_end=day)
    cls = SchoolClass.objects.create(campaign=camp, department=Department.objects.create(institution=inst, name="d"),
                                     name="别班")
    victim = Student.objects.create(campaign=camp, school_class=cls, student_no="S999", name="VICTIM",
                                    doc_number="43052120020101001X")
    op2 = User.objects.create_user(username="op-other", password="x")
    Membership.objects.create(user=op2, institution=inst, role="operator")
    _, other_text = desk_token_issue(user=op2, campaign=camp,
                                     room=Room.objects.create(institution=inst, building="b", name="r"), date=day)
    status, _, first = wsgi(URL, {"code": codes.capture_code_issue(student=victim).token, "nonce": "their-nonce"},
                            {"Authorization": f"Desk {other_text}"})
    assert status == 200 and first["student"]["name"] == "VICTIM"

    _, code = coded()
    status, _, data = wsgi(URL, {"code": code, "nonce": "their-nonce"}, {"Authorization": f"Desk {desk[1]}"})
    assert status == 400 and data["code"] == "checkin.bad_nonce" and "VICTIM" not in json.dumps(data)
    status, _, data = wsgi(URL, {"code": "TC1.AAAA", "nonce": "their-nonce"}, {"Authorization": f"Desk {desk[1]}"})
    assert "VICTIM" not in json.dumps(data)
