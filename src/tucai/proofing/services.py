"""Proofreading (校对) and corrections (勘误): the writes. Every change is audited; a proof moves only
along ``models.STUDENT_MOVES`` / ``models.OFFICE_MOVES``."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from tucai.accounts.selectors import require
from tucai.audit.services import audit_record
from tucai.core.errors import TucaiError
from tucai.proofing.models import OFFICE_MOVES, STUDENT_MOVES, CorrectionField, Proof, ProofingWindow, ProofState
from tucai.proofing.selectors import answer_deadline, answer_for_current_photo, student_proof_photo

DETAIL_MAX = 500


def proofing_open(*, campaign, actor, opens_at: dt.datetime | None = None) -> ProofingWindow:
    """Publish the photos for proofreading: the window runs ``campaign.proofing_window_days`` from now."""
    require(user=actor, institution_id=campaign.institution_id, perm="proofing.manage")
    opens_at = opens_at or timezone.now()
    closes_at = opens_at + dt.timedelta(days=campaign.proofing_window_days)
    try:
        with transaction.atomic():
            window = ProofingWindow.objects.create(campaign=campaign, opens_at=opens_at, closes_at=closes_at,
                                                   opened_by=actor if getattr(actor, "is_authenticated", False)
                                                   else None)
            audit_record(actor=actor, action="proofing.open", obj=window, campaign_id=campaign.pk,
                         changes={"closes_at": [None, closes_at.isoformat()]})
    except IntegrityError:
        raise TucaiError("proofing.already_open", "本活动已发布校对", "Proofreading is already open for this campaign") \
            from None
    return window


def _window_for(campaign, now: dt.datetime, shot=None) -> ProofingWindow:
    window = ProofingWindow.objects.filter(campaign=campaign).first()
    if window is None or now < window.opens_at:
        raise TucaiError("proofing.not_open", "照片尚未发布校对", "The photos are not published for proofreading yet")
    deadline = answer_deadline(window, shot)
    if now > deadline:
        raise TucaiError("proofing.closed", f"勘误期已于 {timezone.localtime(deadline):%Y-%m-%d %H:%M} 截止",
                         f"The correction window closed on {timezone.localtime(deadline):%Y-%m-%d %H:%M}")
    return window


def proof_reply(*, student, to: str, field: str = "", detail: str = "", now: dt.datetime | None = None) -> Proof:
    try:
        return _proof_reply(student=student, to=to, field=field, detail=detail, now=now)
    except IntegrityError:
        # Two first answers at once (a double tap): the other created the row; answer again over it.
        return _proof_reply(student=student, to=to, field=field, detail=detail, now=now)


def _proof_reply(*, student, to: str, field: str = "", detail: str = "", now: dt.datetime | None = None) -> Proof:
    """The student's answer: ``confirmed`` (photo and data are right) or ``open`` (a correction, with the
    field and what is wrong). Only inside the window, and only for a student with an accepted photo."""
    now = now or timezone.now()
    shot = student_proof_photo(student=student)
    _window_for(student.campaign, now, shot)
    if to not in (ProofState.CONFIRMED, ProofState.OPEN):
        raise TucaiError("proof.bad_state", "无效的校对结果", "Not a proofreading answer")
    detail = (detail or "").replace("\r\n", "\n").strip()  # a browser counts a line break as one character
    if to == ProofState.OPEN:
        if field not in CorrectionField.values:
            raise TucaiError("proof.bad_field", "请选择需要更正的项目", "Choose what needs correcting")
        if not detail or len(detail) > DETAIL_MAX:
            raise TucaiError("proof.bad_detail", f"请写明哪里有误、应为什么（不超过 {DETAIL_MAX} 字）",
                             f"Say what is wrong and what it should be (at most {DETAIL_MAX} characters)")
        if "\x00" in detail:
            raise TucaiError("proof.bad_detail", "说明中含有非法字符", "The text contains a NUL character")
    else:
        field, detail = "", ""
    if shot is None:
        raise TucaiError("proof.no_photo", "还没有您的已采用照片，无需校对（请参加补拍）",
                         "There is no accepted photo of you to proofread yet (come to the make-up shoot)")
    with transaction.atomic():
        proof = Proof.objects.select_for_update().filter(student=student).first()
        before = answer_for_current_photo(proof, shot.pk)  # an answer about an earlier photo starts afresh
        if to not in STUDENT_MOVES.get(before, frozenset()):
            raise TucaiError("proof.illegal_transition", "当前状态下不能这样回复", f"Cannot move from {before} to {to}",
                             details={"from": before, "to": to})
        if before == to == ProofState.CONFIRMED:
            return proof  # a second tap on "correct": nothing to change or record
        if proof is None:
            proof = Proof(campaign_id=student.campaign_id, student=student)
        old_field, old_detail = (proof.field, proof.detail) if before == ProofState.OPEN else ("", "")
        proof.shot, proof.state, proof.field, proof.detail, proof.replied_at = shot, to, field, detail, now
        proof.answer, proof.answered_by, proof.answered_at = "", None, None
        proof.save()
        changes = {"proof": [before or None, to], "shot": [None, shot.pk]}
        if to == ProofState.OPEN:
            changes.update(field=[old_field or None, field], detail=[old_detail or None, detail])
        audit_record(actor_label="student", action=f"proof.{to}", obj=student, campaign_id=student.campaign_id,
                     changes=changes)
    return proof


def proof_answer(*, proof: Proof, to: str, answer: str, actor, seen: str | None = None) -> Proof:
    """The office answers an open correction: ``fixed`` (the data was corrected — in the roster or the
    admin, which audit it themselves), ``retake`` (the accepted photo is set aside: the student is on
    the make-up list again) or ``rejected`` (checked: photo and data are right), always with a note."""
    campaign = proof.campaign
    require(user=actor, institution_id=campaign.institution_id, perm="proofing.manage")
    answer = (answer or "").replace("\r\n", "\n").strip()
    if not answer or len(answer) > DETAIL_MAX or "\x00" in answer:
        raise TucaiError("proof.bad_answer", f"请填写处理说明（不超过 {DETAIL_MAX} 字）",
                         f"Write what was done (at most {DETAIL_MAX} characters)")
    from tucai.stations.services import shot_set_aside

    with transaction.atomic():
        locked = Proof.objects.select_for_update(of=("self",)).select_related("student").get(pk=proof.pk)
        if to not in OFFICE_MOVES.get(locked.state, frozenset()):
            raise TucaiError("proof.illegal_transition", "该勘误已处理或不能这样处理",
                             f"This correction cannot move from {locked.state} to {to}",
                             details={"from": locked.state, "to": to})
        if seen is not None and seen != locked.replied_at.isoformat():
            raise TucaiError("proof.changed", "学生刚修改了这条勘误申请，请刷新页面后再处理",
                             "The student has just changed this request: reload the page, then answer")
        changes = {"proof": [locked.state, to], "answer": [None, answer]}
        if to == ProofState.RETAKE:
            # The photo the student complained about, and only while it is still their photo.
            current = student_proof_photo(student=locked.student)
            if locked.shot_id is None or current is None or current.pk != locked.shot_id:
                raise TucaiError("proof.photo_changed", "学生的照片在申请后已更换，请核对新照片",
                                 "The student's photo has changed since the request: check the new one")
            shot_set_aside(shot=current, actor=actor, note=f"勘误补拍：{answer}")
            changes["shot"] = [current.pk, None]
        locked.state, locked.answer, locked.answered_by, locked.answered_at = to, answer, actor, timezone.now()
        locked.save()
        audit_record(actor=actor, action=f"proof.{to}", obj=locked.student, campaign_id=campaign.pk, changes=changes)
    proof.refresh_from_db()
    return proof
