"""Student sign-in on the code page: 学号 + the last 6 characters of the document number.

Students have no Django user; the view keeps the student id in the session. Failures are rows in
the database (not the per-process cache) so the limit holds across server processes."""

from __future__ import annotations

import datetime as dt
import hmac

from django.conf import settings
from django.utils import timezone

from tucai.campaigns.models import Student, StudentStatus
from tucai.capture.models import StudentLoginFailure
from tucai.core.errors import TucaiError

WINDOW = dt.timedelta(minutes=10)
MAX_FAILURES_PER_STUDENT = 5
# A whole dormitory or campus Wi-Fi may share one address: the per-IP limit is looser (and can be
# set with settings.TUCAI_LOGIN_MAX_FAILURES_PER_IP).
MAX_FAILURES_PER_IP = 20


def client_ip(request) -> str | None:
    """The student's address. Behind N trusted reverse proxies (settings.TUCAI_TRUSTED_PROXIES = N)
    it is the N-th address from the right of X-Forwarded-For; otherwise REMOTE_ADDR, because a
    client can write anything into that header."""
    hops = int(getattr(settings, "TUCAI_TRUSTED_PROXIES", 0) or 0)
    if hops > 0:
        chain = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(chain) >= hops:
            return chain[-hops][:45]
    return request.META.get("REMOTE_ADDR")


def _rate_limited(*, student_no: str, ip: str | None) -> bool:
    since = timezone.now() - WINDOW
    recent = StudentLoginFailure.objects.filter(at__gte=since)
    if recent.filter(student_no=student_no).count() >= MAX_FAILURES_PER_STUDENT:
        return True
    per_ip = int(getattr(settings, "TUCAI_LOGIN_MAX_FAILURES_PER_IP", MAX_FAILURES_PER_IP))
    return bool(ip) and recent.filter(ip=ip).count() >= per_ip


def student_login(*, campaign, student_no: str, doc_tail: str, ip: str | None) -> Student:
    """The student whose 学号 and document-number tail match, or ``login.failed`` / ``login.rate_limited``.

    The limit is checked before the credentials, so a locked 学号 stays locked even for a right guess."""
    student_no = (student_no or "").strip()[:40]
    tail = (doc_tail or "").strip().upper()
    if _rate_limited(student_no=student_no, ip=ip):
        raise TucaiError("login.rate_limited", "尝试次数过多，请 10 分钟后再试",
                         "Too many attempts; try again in 10 minutes")
    student = Student.objects.filter(campaign=campaign, student_no=student_no,
                                     status=StudentStatus.ACTIVE).first() if student_no else None
    expected = student.doc_number.strip().upper()[-6:] if student is not None else "\0" * 6
    # Compare in constant time, and also when the 学号 is unknown, so timing tells nothing.
    matches = hmac.compare_digest(expected.encode(), tail.encode()) and len(tail) == 6
    if student is None or not matches:
        StudentLoginFailure.objects.create(student_no=student_no, ip=ip or None)
        # Keep the table small: rows older than a day no longer count for anything.
        StudentLoginFailure.objects.filter(at__lt=timezone.now() - dt.timedelta(days=1)).delete()
        raise TucaiError("login.failed", "学号或证件号后六位不正确", "Student number or ID ending is wrong")
    return student
