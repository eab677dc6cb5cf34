"""Proofreading (校对) and corrections (勘误): the window, the student's answers, the office's answers,
what they do to the make-up list and the hand-off, the audit trail."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command

from tucai.audit.models import AuditEntry
from tucai.core.errors import TucaiError
from tucai.handoff.services import handoff_collect
from tucai.proofing import selectors
from tucai.proofing.models import Proof, ProofState
from tucai.proofing.services import proof_answer, proof_reply, proofing_open


def test_only_the_office_publishes_once_and_the_window_follows_the_campaign(campaign, office_user, operator_user):
    with pytest.raises(TucaiError):
        proofing_open(campaign=campaign, actor=operator_user)
    window = proofing_open(campaign=campaign, actor=office_user)
    assert window.closes_at - window.opens_at == dt.timedelta(days=campaign.proofing_window_days) == dt.timedelta(14)
    with pytest.raises(TucaiError) as exc:
        proofing_open(campaign=campaign, actor=office_user)
    assert exc.value.code == "proofing.already_open"
    assert AuditEntry.objects.filter(action="proofing.open", actor=office_user).count() == 1


def test_students_answer_only_inside_the_window_and_with_a_photo(campaign, make_student, photograph, office_user):
    s, no_photo = make_student(), make_student()
    photograph(s)
    with pytest.raises(TucaiError) as exc:
        proof_reply(student=s, to=ProofState.CONFIRMED)
    assert exc.value.code == "proofing.not_open"
    window = proofing_open(campaign=campaign, actor=office_user)
    with pytest.raises(TucaiError) as exc:
        proof_reply(student=no_photo, to=ProofState.CONFIRMED)
    assert exc.value.code == "proof.no_photo"
    proof = proof_reply(student=s, to=ProofState.CONFIRMED)
    assert proof.state == ProofState.CONFIRMED and proof.shot is not None
    late = window.closes_at + dt.timedelta(seconds=1)
    with pytest.raises(TucaiError) as exc:
        proof_reply(student=s, to=ProofState.OPEN, field="name", detail="名字错了", now=late)
    assert exc.value.code == "proofing.closed"
    assert Proof.objects.get(student=s).state == ProofState.CONFIRMED  # nothing changed


@pytest.mark.parametrize("field, detail, code", [
    ("", "名字错了", "proof.bad_field"), ("hair", "x", "proof.bad_field"), ("name", "  ", "proof.bad_detail"),
    ("name", "长" * 501, "proof.bad_detail"), ("name", "a\x00b", "proof.bad_detail"),
])
def test_a_correction_needs_a_field_and_a_detail(campaign, make_student, photograph, office_user, field, detail, code):
    s = make_student()
    photograph(s)
    proofing_open(campaign=campaign, actor=office_user)
    with pytest.raises(TucaiError) as exc:
        proof_reply(student=s, to=ProofState.OPEN, field=field, detail=detail)
    assert exc.value.code == code
    assert not Proof.objects.exists()


def test_retake_answer_puts_the_student_back_on_the_make_up_list(campaign, make_student, photograph, office_user):
    a, b = make_student(name="甲"), make_student(name="乙")
    photograph(a)
    photograph(b)
    proofing_open(campaign=campaign, actor=office_user)
    proof = proof_reply(student=a, to=ProofState.OPEN, field="photo", detail="照片里闭眼了")
    # While the request is open, the hand-off leaves the student out and says why.
    result = handoff_collect(campaign=campaign, check_files=False)
    assert [(e.student, e.reason) for e in result.missing] == [(a, "correction.open")]
    assert [e.student for e in result.included] == [b]
    with pytest.raises(TucaiError) as exc:
        proof_answer(proof=proof, to=ProofState.RETAKE, answer="", actor=office_user)
    assert exc.value.code == "proof.bad_answer"
    proof = proof_answer(proof=proof, to=ProofState.RETAKE, answer="安排补拍", actor=office_user)
    assert proof.state == ProofState.RETAKE and proof.answered_by == office_user
    assert selectors.student_proof_photo(student=a) is None  # the photo is set aside
    result = handoff_collect(campaign=campaign, check_files=False)
    assert [(e.student, e.reason) for e in result.missing] == [(a, "photo.none")]
    with pytest.raises(TucaiError) as exc:  # answered once
        proof_answer(proof=proof, to=ProofState.REJECTED, answer="again", actor=office_user)
    assert exc.value.code == "proof.illegal_transition"
    actions = list(AuditEntry.objects.filter(entity_id=str(a.pk)).values_list("action", flat=True))
    assert "proof.open" in actions and "proof.retake" in actions


def test_moves_follow_the_table(campaign, make_student, photograph, office_user, operator_user):
    s = make_student()
    photograph(s)
    proofing_open(campaign=campaign, actor=office_user)
    proof = proof_reply(student=s, to=ProofState.CONFIRMED)
    proof = proof_reply(student=s, to=ProofState.OPEN, field="name", detail="应为“张珊”")  # changed their mind
    with pytest.raises(TucaiError) as exc:
        proof_reply(student=s, to=ProofState.CONFIRMED)  # an open request is the office's to answer
    assert exc.value.code == "proof.illegal_transition"
    with pytest.raises(TucaiError):
        proof_answer(proof=proof, to=ProofState.REJECTED, answer="核对身份证", actor=operator_user)  # not the office
    proof = proof_answer(proof=proof, to=ProofState.REJECTED, answer="与身份证一致", actor=office_user)
    proof = proof_reply(student=s, to=ProofState.CONFIRMED)
    assert proof.state == ProofState.CONFIRMED and proof.answer == ""
    assert selectors.proofing_overview(campaign=campaign)["confirmed"] == 1


def test_overview_and_the_reminder_list(campaign, make_student, photograph, office_user):
    a, b, c = make_student(), make_student(), make_student()
    make_student()  # not photographed: the make-up list's, not the reminder list's
    for s in (a, b, c):
        photograph(s)
    proofing_open(campaign=campaign, actor=office_user)
    proof_reply(student=a, to=ProofState.CONFIRMED)
    proof_reply(student=b, to=ProofState.OPEN, field="doc_number", detail="末位应为 X")
    o = selectors.proofing_overview(campaign=campaign)
    assert (o["photographed"], o["confirmed"], o["open"], o["no_reply"]) == (3, 1, 1, 1)
    assert selectors.proof_pending_students(campaign=campaign) == [c]
    assert [r[2] for r in selectors.proof_pending_rows(campaign=campaign)] == [c.student_no]


def test_command_line(campaign, make_student, photograph, office_user, tmp_path, capsys):
    s = make_student()
    photograph(s)
    call_command("proofing", "open", "--campaign", campaign.code, "--as", office_user.username)
    assert "已发布校对" in capsys.readouterr().out
    with pytest.raises(CommandError, match="proofing.already_open"):
        call_command("proofing", "open", "--campaign", campaign.code, "--as", office_user.username)
    call_command("proofing", "status", "--campaign", campaign.code, "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["window_open"] is True and data["open"] == 0 and data["no_reply"] == 1
    out = tmp_path / "pending.csv"
    call_command("proofing", "pending", "--campaign", campaign.code, str(out))
    assert s.student_no in out.read_text(encoding="utf-8-sig")
    with pytest.raises(CommandError):
        call_command("proofing", "pending", "--campaign", campaign.code, str(tmp_path / "x.txt"))


def test_a_new_photo_is_proofread_afresh(campaign, make_student, photograph, office_user, operator_user):
    """Confirmed, then the photo is retaken at the station and a new one accepted: the confirmation was
    about the old photo — the student is on the reminder list again and confirms the new one."""
    from tucai.stations.services import shot_retake

    s = make_student()
    old = photograph(s)
    proofing_open(campaign=campaign, actor=office_user)
    proof_reply(student=s, to=ProofState.CONFIRMED)
    assert selectors.proof_pending_students(campaign=campaign) == []
    shot_retake(shot=old, actor=operator_user, note="重拍")
    new = photograph(s)
    assert selectors.proof_pending_students(campaign=campaign) == [s]
    assert selectors.proofing_overview(campaign=campaign)["confirmed"] == 0
    proof = proof_reply(student=s, to=ProofState.CONFIRMED)
    assert proof.shot_id == new.pk and selectors.proof_pending_students(campaign=campaign) == []


def test_a_retake_answer_sets_the_photo_aside_without_touching_the_day_s_ticket_or_station(
        campaign, make_student, photograph, office_user, station):
    from tucai.capture.models import Ticket

    a, b = make_student(), make_student()
    shot_a = photograph(a)
    photograph(b)  # the station's current student is now b
    station.refresh_from_db()
    bound = station.current_ticket_id
    proofing_open(campaign=campaign, actor=office_user)
    proof = proof_reply(student=a, to=ProofState.OPEN, field="photo", detail="闭眼")
    proof_answer(proof=proof, to=ProofState.RETAKE, answer="补拍", actor=office_user)
    shot_a.refresh_from_db()
    station.refresh_from_db()
    assert shot_a.state == "rejected" and station.current_ticket_id == bound
    assert Ticket.objects.get(student=a).state == "done"  # the shoot day's ticket stays done
    entry = AuditEntry.objects.get(action="proof.retake")
    assert entry.changes["shot"] == [shot_a.pk, None]


def test_the_office_cannot_answer_a_request_it_has_not_read(campaign, make_student, photograph, office_user):
    s = make_student()
    photograph(s)
    proofing_open(campaign=campaign, actor=office_user)
    proof = proof_reply(student=s, to=ProofState.OPEN, field="name", detail="应为张珊")
    seen = proof.replied_at.isoformat()
    proof_reply(student=s, to=ProofState.OPEN, field="photo", detail="照片闭眼，请补拍",
                now=proof.replied_at + dt.timedelta(minutes=1))
    with pytest.raises(TucaiError) as exc:
        proof_answer(proof=proof, to=ProofState.REJECTED, answer="姓名与身份证一致", actor=office_user, seen=seen)
    assert exc.value.code == "proof.changed"
    entry = AuditEntry.objects.filter(action="proof.open").order_by("-pk").first()
    assert entry.changes["detail"] == ["应为张珊", "照片闭眼，请补拍"]  # the earlier text stays in the record


def test_double_confirm_is_harmless_and_a_late_photo_gets_its_own_days(campaign, make_student, photograph,
                                                                       office_user, operator_user):
    from tucai.stations.services import shot_set_aside

    s = make_student()
    old = photograph(s)
    from django.utils import timezone

    window = proofing_open(campaign=campaign, actor=office_user, opens_at=timezone.now() - dt.timedelta(days=10))
    proof_reply(student=s, to=ProofState.CONFIRMED)
    proof_reply(student=s, to=ProofState.CONFIRMED)
    assert AuditEntry.objects.filter(action="proof.confirmed").count() == 1
    # A photo accepted after the window opened (make-up shoot): its own 14 days from acceptance.
    shot_set_aside(shot=old, actor=operator_user, note="test")
    new = photograph(s)
    late = window.closes_at + dt.timedelta(days=1)
    assert late < new.decided_at + dt.timedelta(days=14)
    proof = proof_reply(student=s, to=ProofState.CONFIRMED, now=late)
    assert proof.shot_id == new.pk
    with pytest.raises(TucaiError) as exc:
        proof_reply(student=s, to=ProofState.OPEN, field="name", detail="x",
                    now=new.decided_at + dt.timedelta(days=14, seconds=1))
    assert exc.value.code == "proofing.closed"


def test_retake_refused_when_the_photo_changed_since_the_request(campaign, make_student, photograph, office_user,
                                                                operator_user):
    from tucai.stations.services import shot_set_aside

    s = make_student()
    old = photograph(s)
    proofing_open(campaign=campaign, actor=office_user)
    proof = proof_reply(student=s, to=ProofState.OPEN, field="photo", detail="闭眼")
    shot_set_aside(shot=old, actor=operator_user, note="station retook it")
    new = photograph(s)
    with pytest.raises(TucaiError) as exc:
        proof_answer(proof=proof, to=ProofState.RETAKE, answer="补拍", actor=office_user)
    assert exc.value.code == "proof.photo_changed"
    new.refresh_from_db()
    assert new.state == "accepted"  # the new photo is not thrown away
