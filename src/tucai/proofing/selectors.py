"""Proofreading (校对): the reads."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.utils import timezone

from tucai.campaigns.models import Student, StudentStatus
from tucai.proofing.models import Proof, ProofingWindow, ProofState
from tucai.stations.models import ACCEPTED_STATES, Shot


def student_proof_photo(*, student) -> Shot | None:
    """The photo the student proofreads: their accepted one (the newest decision)."""
    return (Shot.objects.filter(student=student, state__in=ACCEPTED_STATES).exclude(normalized="")
            .order_by("-decided_at", "-id").first())


def proofing_window(*, campaign) -> ProofingWindow | None:
    return ProofingWindow.objects.filter(campaign=campaign).first()


def window_is_open(window: ProofingWindow | None, now=None) -> bool:
    now = now or timezone.now()
    return window is not None and window.opens_at <= now <= window.closes_at


def _photographed(campaign):
    accepted = Shot.objects.filter(student=OuterRef("pk"), state__in=ACCEPTED_STATES).exclude(normalized="")
    return (Student.objects.filter(campaign=campaign, status=StudentStatus.ACTIVE)
            .filter(Exists(accepted)).select_related("school_class__department"))


def proofing_overview(*, campaign) -> dict:
    """Counts for the office: photographed students, and their answers so far."""
    photographed = _photographed(campaign)
    counts = {s: 0 for s in ProofState.values}
    for state in Proof.objects.filter(campaign=campaign, student__in=photographed).values_list("state", flat=True):
        counts[state] += 1
    total = photographed.count()
    return {"photographed": total, "no_reply": total - sum(counts.values()), **counts}


def proof_pending_students(*, campaign) -> list[Student]:
    """Photographed students who have not answered yet: the reminder list, by class."""
    return list(_photographed(campaign).filter(proof__isnull=True).order_by("school_class__name", "student_no"))


def proofs_open(*, campaign):
    return (Proof.objects.filter(campaign=campaign, state=ProofState.OPEN)
            .select_related("student__school_class", "shot").order_by("replied_at"))


def students_with_open_corrections(*, campaign) -> set[int]:
    return set(Proof.objects.filter(campaign=campaign, state=ProofState.OPEN).values_list("student_id", flat=True))


PENDING_COLUMNS = ["院系", "班级", "学号", "姓名", "手机"]


def proof_pending_rows(*, campaign) -> list[list[str]]:
    """The reminder list as spreadsheet rows (class monitors chase their classmates with it)."""
    return [[str(s.school_class.department) if s.school_class.department_id else "", str(s.school_class),
             s.student_no, s.name, s.phone] for s in proof_pending_students(campaign=campaign)]
