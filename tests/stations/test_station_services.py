"""Shot services: ingest and dedupe, the state machine, accept/retake/override/reassign, audit."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.storage import default_storage

from tucai.audit.models import AuditEntry
from tucai.capture.models import TicketState
from tucai.core.errors import TucaiError
from tucai.stations.models import SHOT_TRANSITIONS, Shot, ShotState
from tucai.stations.services import (
    shot_accept, shot_check, shot_ingest, shot_override, shot_reassign, shot_retake, station_bind_ticket,
)
from tucai.stations.state import shot_transition

pytestmark = pytest.mark.django_db


def test_ingest_binds_to_current_ticket_stores_original_and_checks(station, make_ticket, make_jpeg, engine):
    ticket = make_ticket(state="called")
    data = make_jpeg(1)
    shot = shot_ingest(station=station, data=data, filename="IMG_0001.JPG", actor_label="test")
    assert shot.was_created
    assert shot.ticket_id == ticket.pk and shot.student_id == ticket.student_id
    sha = hashlib.sha256(data).hexdigest()
    assert shot.sha256 == sha
    # Content-addressed name: originals/<campaign>/<room>/<date>/<sha256>.<ext>, bytes kept as they came.
    assert shot.original.name.startswith(f"originals/{station.campaign.code}/{station.room_id}/")
    assert shot.original.name.endswith(f"/{sha}.jpg")
    with default_storage.open(shot.original.name, "rb") as fh:
        assert fh.read() == data
    # The check ran (immediate backend) and wrote its verdict; the ticket moved to the camera.
    assert engine.calls and engine.calls[0][2] == "IMG_0001.JPG"
    assert shot.state == ShotState.CHECKED and shot.verdict == "pass"
    assert shot.preview.name and shot.report["checks"]
    ticket.refresh_from_db()
    assert ticket.state == TicketState.AT_CAMERA
    station.refresh_from_db()
    assert station.current_ticket_id == ticket.pk
    assert AuditEntry.objects.filter(action="shot.received", entity_id=str(shot.pk)).exists()
    assert AuditEntry.objects.filter(action="shot.checked", entity_id=str(shot.pk)).exists()


def test_duplicate_bytes_return_the_existing_shot(station, make_ticket, make_jpeg, engine):
    make_ticket(state="called")
    data = make_jpeg(2)
    first = shot_ingest(station=station, data=data, filename="a.jpg")
    again = shot_ingest(station=station, data=data, filename="copy of a.jpg")
    assert not again.was_created and again.pk == first.pk
    assert Shot.objects.count() == 1
    assert len(engine.calls) == 1  # checked once


def test_ingest_from_path_keeps_the_source_file(station, make_ticket, make_jpeg, engine, tmp_path):
    make_ticket(state="called")
    src = tmp_path / "DSC_0042.jpg"
    src.write_bytes(make_jpeg(3))
    shot = shot_ingest(station=station, path=src)
    assert src.exists() and src.read_bytes() == make_jpeg(3)
    assert shot.source_path == str(src) and shot.filename == "DSC_0042.jpg"


@pytest.mark.parametrize("kwargs,code", [
    ({"data": b"", "filename": "x.jpg"}, "shot.empty"),
    ({"data": b"abc", "filename": "notes.txt"}, "shot.bad_type"),
    ({"filename": "x.jpg"}, "shot.bad_input"),
])
def test_ingest_refuses_bad_input(station, engine, kwargs, code):
    with pytest.raises(TucaiError) as exc:
        shot_ingest(station=station, **kwargs)
    assert exc.value.code == code
    assert Shot.objects.count() == 0


def test_damaged_stored_copy_from_a_killed_run_is_replaced(station, make_ticket, make_jpeg, engine):
    """A kill while the original was being written leaves a partial file under the hash name, without
    a row; the next ingest of the same bytes must store the full file, not trust the partial one."""
    make_ticket(state="called")
    data = make_jpeg(4)
    sha = hashlib.sha256(data).hexdigest()
    from django.utils import timezone

    name = f"originals/{station.campaign.code}/{station.room_id}/{timezone.localdate():%Y-%m-%d}/{sha}.jpg"
    default_storage.save(name, __import__("django.core.files.base", fromlist=["ContentFile"]).ContentFile(data[:100]))
    shot = shot_ingest(station=station, data=data, filename="x.jpg")
    assert shot.original.name == name
    with default_storage.open(name, "rb") as fh:
        assert fh.read() == data


def test_no_current_ticket_goes_to_unmatched_then_reassign(station, make_ticket, make_jpeg, engine, operator_user):
    shot = shot_ingest(station=station, data=make_jpeg(5), filename="x.jpg")
    assert shot.state == ShotState.UNMATCHED and shot.ticket_id is None
    assert shot.verdict == "pass"  # checked all the same, so the operator sees the verdict in the bucket
    with pytest.raises(TucaiError) as exc:
        shot_accept(shot=shot, actor=operator_user)
    assert exc.value.code == "shot.not_checked"

    ticket = make_ticket(state="called")
    shot = shot_reassign(shot=shot, ticket=ticket, actor=operator_user)
    assert shot.state == ShotState.CHECKED and shot.ticket_id == ticket.pk and shot.student_id == ticket.student_id
    entry = AuditEntry.objects.filter(entity_id=str(shot.pk), action="shot.checked", actor=operator_user).get()
    assert entry.changes["ticket"] == [None, ticket.pk]
    shot = shot_accept(shot=shot, actor=operator_user)
    assert shot.state == ShotState.ACCEPTED
    ticket.refresh_from_db()
    assert ticket.state == TicketState.DONE


def test_reassign_to_a_ticket_of_another_campaign_is_refused(station, make_jpeg, engine, institution, make_student):
    import datetime as dt

    from tucai.campaigns.models import Campaign
    from tucai.capture.models import Ticket

    other = Campaign.objects.create(institution=institution, code="other", name="x", graduation_year=2025,
                                    capture_start=dt.date(2024, 1, 1), capture_end=dt.date(2024, 1, 1))
    shot = shot_ingest(station=station, data=make_jpeg(6), filename="x.jpg")
    t = Ticket.objects.create(campaign=other, room=station.room, date=dt.date(2024, 1, 1), number=1, queue_order=1,
                              student=make_student())
    with pytest.raises(TucaiError) as exc:
        shot_reassign(shot=shot, ticket=t)
    assert exc.value.code == "shot.ticket_other_campaign"


def test_accept_stores_normalized_and_finishes_ticket(station, make_ticket, make_jpeg, engine, operator_user):
    ticket = make_ticket(state="called")
    shot = shot_ingest(station=station, data=make_jpeg(7), filename="x.jpg")
    shot = shot_accept(shot=shot, actor=operator_user)
    assert shot.state == ShotState.ACCEPTED and shot.decided_by == operator_user
    assert shot.normalized.name.startswith(f"photos/{station.campaign.code}/{ticket.student.student_no}-")
    from PIL import Image

    with default_storage.open(shot.normalized.name, "rb") as fh:
        assert Image.open(fh).size == (480, 640)
    ticket.refresh_from_db()
    assert ticket.state == TicketState.DONE


def test_failed_check_cannot_be_accepted_but_can_be_overridden_with_reason(
        station, make_ticket, make_jpeg, engine, operator_user):
    engine.verdict = "retake"
    ticket = make_ticket(state="called")
    shot = shot_ingest(station=station, data=make_jpeg(8), filename="x.jpg")
    assert shot.verdict == "retake" and [c["id"] for c in shot.failed_checks] == ["eyes.open"]
    with pytest.raises(TucaiError) as exc:
        shot_accept(shot=shot, actor=operator_user)
    assert exc.value.code == "shot.check_failed"
    for reason in ("", "   ", "x"):
        with pytest.raises(TucaiError) as exc:
            shot_override(shot=shot, actor=operator_user, reason=reason)
        assert exc.value.code == "shot.override_reason_required"
    shot.refresh_from_db()
    assert shot.state == ShotState.CHECKED
    shot = shot_override(shot=shot, actor=operator_user, reason="学生眼睛较小，人工确认睁眼")
    assert shot.state == ShotState.OVERRIDE and shot.override_reason.startswith("学生眼睛较小")
    entry = AuditEntry.objects.get(action="shot.override", entity_id=str(shot.pk))
    assert entry.actor == operator_user and "学生眼睛较小" in entry.note
    assert entry.changes["state"] == [ShotState.CHECKED, ShotState.OVERRIDE]
    ticket.refresh_from_db()
    assert ticket.state == TicketState.DONE


def test_override_needs_the_permission(station, make_ticket, make_jpeg, engine, institution):
    from tucai.accounts.models import Membership, User

    monitor = User.objects.create_user(username="monitor", password="x")
    Membership.objects.create(user=monitor, institution=institution, role="monitor")
    engine.verdict = "retake"
    make_ticket(state="called")
    shot = shot_ingest(station=station, data=make_jpeg(9), filename="x.jpg")
    with pytest.raises(TucaiError) as exc:
        shot_override(shot=shot, actor=monitor, reason="理由充分")
    assert exc.value.code == "permission.denied"


def test_override_of_an_engine_error_uses_a_plain_crop(station, make_ticket, make_jpeg, engine, operator_user):
    engine.raise_exc = RuntimeError("model file missing")
    make_ticket(state="called")
    shot = shot_ingest(station=station, data=make_jpeg(10), filename="x.jpg")
    assert shot.state == ShotState.CHECKED and shot.verdict == "error"
    assert "model file missing" in shot.report["error"]["message_en"]
    shot = shot_override(shot=shot, actor=operator_user, reason="检测程序故障，人工检查合格")
    from PIL import Image

    with default_storage.open(shot.normalized.name, "rb") as fh:
        assert Image.open(fh).size == (480, 640)


def test_retake_keeps_the_student_at_the_camera_and_next_frame_binds_again(
        station, make_ticket, make_jpeg, engine, operator_user):
    engine.verdict = "retake"
    ticket = make_ticket(state="called")
    first = shot_ingest(station=station, data=make_jpeg(11), filename="1.jpg")
    first = shot_retake(shot=first, actor=operator_user)
    assert first.state == ShotState.REJECTED
    engine.verdict = "pass"
    second = shot_ingest(station=station, data=make_jpeg(12), filename="2.jpg")
    assert second.ticket_id == ticket.pk
    shot_accept(shot=second, actor=operator_user)
    # Retake after acceptance reopens the ticket, and a newer accepted frame supersedes the older one.
    shot_retake(shot=second, actor=operator_user)
    ticket.refresh_from_db()
    assert ticket.state == TicketState.AT_CAMERA
    third = shot_ingest(station=station, data=make_jpeg(13), filename="3.jpg")
    shot_accept(shot=third, actor=operator_user)
    assert list(Shot.objects.filter(student=ticket.student, state__in=("accepted", "override"))
                .values_list("pk", flat=True)) == [third.pk]


def test_accepting_a_second_frame_supersedes_the_first(station, make_ticket, make_jpeg, engine, operator_user):
    ticket = make_ticket(state="called")
    a = shot_ingest(station=station, data=make_jpeg(14), filename="a.jpg")
    b = shot_ingest(station=station, data=make_jpeg(15), filename="b.jpg")
    shot_accept(shot=a, actor=operator_user)
    # The ticket is done, but a frame taken before acceptance can still be chosen instead.
    shot_accept(shot=b, actor=operator_user)
    a.refresh_from_db()
    assert a.state == ShotState.REJECTED
    assert AuditEntry.objects.filter(entity_id=str(a.pk), action="shot.rejected", note__contains="superseded").exists()
    ticket.refresh_from_db()
    assert ticket.state == TicketState.DONE


@pytest.mark.parametrize("frm,to", [
    (frm, to) for frm in ShotState.values for to in ShotState.values if to not in SHOT_TRANSITIONS[frm]
])
def test_illegal_transitions_are_refused(station, make_jpeg, engine, frm, to):
    shot = shot_ingest(station=station, data=make_jpeg(20), filename="x.jpg", run_check=False)
    Shot.objects.filter(pk=shot.pk).update(state=frm)
    with pytest.raises(TucaiError) as exc:
        shot_transition(shot=shot, to=to, actor_label="test")
    assert exc.value.code == "shot.illegal_transition"
    shot.refresh_from_db()
    assert shot.state == frm


def test_decisions_refused_in_wrong_states(station, make_ticket, make_jpeg, engine, operator_user):
    make_ticket(state="called")
    shot = shot_ingest(station=station, data=make_jpeg(21), filename="x.jpg")
    shot_retake(shot=shot, actor=operator_user)
    with pytest.raises(TucaiError) as exc:
        shot_accept(shot=shot, actor=operator_user)
    assert exc.value.code == "shot.not_checked"
    with pytest.raises(TucaiError) as exc:
        shot_retake(shot=shot, actor=operator_user)
    assert exc.value.code == "shot.illegal_transition"
    with pytest.raises(TucaiError):
        shot_reassign(shot=shot, ticket=shot.ticket, actor=operator_user)


def test_check_is_idempotent_and_a_crashed_check_can_be_rerun(station, make_ticket, make_jpeg, engine):
    make_ticket(state="called")
    shot = shot_ingest(station=station, data=make_jpeg(22), filename="x.jpg", run_check=False)
    assert shot.state == ShotState.RECEIVED and shot.verdict == ""  # the row is there before any check
    from tucai.stations.services import shot_recheck_pending

    assert shot_recheck_pending(station=station) == 1
    shot.refresh_from_db()
    assert shot.state == ShotState.CHECKED
    shot_check(shot_id=shot.pk)
    assert len(engine.calls) == 1


def test_station_binding_decides_which_ticket_a_frame_goes_to(station, make_ticket, make_jpeg, engine, room, campaign):
    from tucai.stations.services import station_get_or_create

    second = station_get_or_create(campaign=campaign, room=room, name="2")
    t1 = make_ticket(state="called")
    t2 = make_ticket(state="called")
    station_bind_ticket(station=station, ticket=t1)
    # Station 2 is not bound: it takes the most recently called ticket no other station holds.
    s2 = shot_ingest(station=second, data=make_jpeg(23), filename="x.jpg")
    s1 = shot_ingest(station=station, data=make_jpeg(24), filename="y.jpg")
    assert (s1.ticket_id, s2.ticket_id) == (t1.pk, t2.pk)


def test_reasons_say_each_cause_once(station, make_jpeg, engine):
    shot = shot_ingest(station=station, data=make_jpeg(30), filename="x.jpg", run_check=False)
    shot.report = {"retake_reasons": [
        {"id": "face.count", "message_zh": "未检测到人脸", "message_en": "No face"},
        {"id": "eyes.open", "message_zh": "未检测到单一人脸，无法测量", "message_en": "cannot be measured"},
        {"id": "mouth.closed", "message_zh": "未检测到单一人脸，无法测量", "message_en": "cannot be measured"},
    ]}
    assert [r["id"] for r in shot.reasons] == ["face.count", "eyes.open"]
    shot.report = {"error": {"code": "photo.decode", "message": "无法读取图片", "message_en": "Cannot decode"}}
    assert shot.reasons == [{"id": "photo.decode", "message_zh": "无法读取图片", "message_en": "Cannot decode"}]


def test_the_scanned_code_travels_with_the_shot(station, make_ticket, make_jpeg, engine):
    """The raw token scanned at check-in (a CHSI 采集码) is kept with the photo for the upload to CHSI."""
    ticket = make_ticket(state="called", raw_code="CHSI:opaque-token-ÄÖ-123")
    shot = shot_ingest(station=station, data=make_jpeg(31), filename="x.jpg")
    assert shot.capture_token == "CHSI:opaque-token-ÄÖ-123"
    unmatched = shot_ingest(station=station, data=make_jpeg(32), filename="y.jpg")
    assert unmatched.capture_token == "CHSI:opaque-token-ÄÖ-123"  # still the same student at the camera
    shot_retake(shot=shot)
    from tucai.capture.services.queue import queue_finish

    queue_finish(ticket=ticket)
    orphan = shot_ingest(station=station, data=make_jpeg(33), filename="z.jpg")
    assert orphan.state == ShotState.UNMATCHED and orphan.capture_token == ""
    t2 = make_ticket(state="called", raw_code="TC1-other")
    orphan = shot_reassign(shot=orphan, ticket=t2)
    assert orphan.capture_token == "TC1-other"
