"""Proofreading (校对): the reads."""

from __future__ import annotations

import datetime as dt

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from tucai.campaigns.models import Student, StudentStatus
from tucai.proofing.models import CorrectionField, Proof, ProofingWindow, ProofState
from tucai.stations.models import Shot
from tucai.stations.selectors import accepted_photos


def student_proof_photo(*, student) -> Shot | None:
    """The photo the student proofreads: their accepted one (the newest decision)."""
    return accepted_photos().filter(student=student).first()


def proofing_window(*, campaign) -> ProofingWindow | None:
    return ProofingWindow.objects.filter(campaign=campaign).first()


def answer_deadline(window: ProofingWindow, shot) -> dt.datetime:
    """Until when the student may answer about ``shot``: the window's end, or — for a photo accepted
    after the window opened (a make-up shoot, a retake) — the same number of days from its acceptance."""
    days = window.closes_at - window.opens_at
    accepted = getattr(shot, "decided_at", None)
    if accepted is not None and accepted > window.opens_at:
        return max(window.closes_at, accepted + days)
    return window.closes_at


def student_proofing(*, student) -> dict:
    """What the student's phone page shows about proofreading (empty before it is published)."""
    window = proofing_window(campaign=student.campaign)
    if window is None:
        return {}
    proof = Proof.objects.filter(student=student).first()
    shot = student_proof_photo(student=student)
    if not answer_for_current_photo(proof, shot.pk if shot else None):
        proof = None  # nothing said yet about the photo they have now
    now = timezone.now()
    deadline = answer_deadline(window, shot)
    return {"proofing": {"window": window, "not_yet": now < window.opens_at, "open": window.opens_at <= now <= deadline,
                         "deadline": deadline, "proof": proof, "shot": shot, "fields": CorrectionField.choices}}


def window_is_open(window: ProofingWindow | None, now=None) -> bool:
    now = now or timezone.now()
    return window is not None and window.opens_at <= now <= window.closes_at


def _current_shot():
    return accepted_photos().filter(student=OuterRef("pk")).values("pk")[:1]


def _photographed(campaign):
    return (Student.objects.filter(campaign=campaign, status=StudentStatus.ACTIVE)
            .annotate(current_shot=Subquery(_current_shot())).filter(current_shot__isnull=False)
            .select_related("school_class__department"))


def answer_for_current_photo(proof: Proof | None, current_shot_id: int | None) -> str:
    """The student's answer about the photo they have now ("" when none). An answer about an earlier
    photo (since retaken at the station, or after a "retake" answer) does not count for a new one —
    except an open request, which stays the office's to answer."""
    if proof is None:
        return ""
    if proof.state == ProofState.OPEN or proof.shot_id == current_shot_id:
        return proof.state
    return ""


def _answers(campaign, class_ids=None) -> list[tuple[Student, str]]:
    students = _photographed(campaign)
    if class_ids is not None:
        students = students.filter(school_class_id__in=class_ids)
    proofs = Proof.objects.filter(campaign=campaign)
    if class_ids is not None:
        proofs = proofs.filter(student__school_class_id__in=class_ids)
    proofs = {p.student_id: p for p in proofs}  # no list of thousands of ids in the query
    return [(s, answer_for_current_photo(proofs.get(s.pk), s.current_shot)) for s in students]


def proofing_overview(*, campaign) -> dict:
    """Counts for the office: photographed students and their answers about their current photo; open
    requests and answered ones as the office lists them (a retake answer leaves the student without a
    photo, so it is counted from the answers, not from the photographed)."""
    counts = {state: 0 for state in ProofState.values}
    answers = _answers(campaign)
    pending = _pending(answers)
    for _, state in answers:
        if state:
            counts[state] += 1
    answered = Proof.objects.filter(campaign=campaign, student__status=StudentStatus.ACTIVE,
                                    state__in=(ProofState.FIXED, ProofState.RETAKE, ProofState.REJECTED)).count()
    # ``pending``: the reminder list itself, from the same reading (a page shows counts and list together).
    return {"photographed": len(answers), "no_reply": len(pending), **counts,
            "open": proofs_open(campaign=campaign).count(), "answered": answered, "pending": pending}


def _pending(answers: list[tuple[Student, str]]) -> list[Student]:
    return sorted((s for s, state in answers if not state), key=lambda s: (s.school_class.name, s.student_no))


def proof_pending_students(*, campaign, class_ids=None) -> list[Student]:
    """Photographed students who have not answered about their current photo: the reminder list, by class
    (``class_ids``: only those classes — a monitor's)."""
    return _pending(_answers(campaign, class_ids))


def proofs_open(*, campaign):
    return (Proof.objects.filter(campaign=campaign, state=ProofState.OPEN, student__status=StudentStatus.ACTIVE)
            .select_related("student__school_class", "shot").order_by("replied_at"))


def students_with_open_corrections(*, campaign) -> set[int]:
    return set(Proof.objects.filter(campaign=campaign, state=ProofState.OPEN).values_list("student_id", flat=True))


PENDING_COLUMNS = ["院系", "班级", "学号", "姓名", "手机"]


def proof_pending_rows(*, campaign, class_ids=None) -> list[list[str]]:
    """The reminder list as spreadsheet rows (class monitors chase their classmates with it)."""
    return [[str(s.school_class.department) if s.school_class.department_id else "", str(s.school_class),
             s.student_no, s.name, s.phone] for s in proof_pending_students(campaign=campaign, class_ids=class_ids)]
