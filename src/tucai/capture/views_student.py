"""The student's own page on the phone: sign in, see the QR code, then the number and place in the queue.

Students have no Django user: the session holds the signed-in student per campaign, and no URL
carries a student id, so a student can only ever reach their own page."""

from __future__ import annotations

import segno
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tucai.campaigns.models import Campaign, Student, StudentStatus
from tucai.capture import selectors
from tucai.capture.services.codes import capture_code_ensure
from tucai.capture.services.student_login import client_ip, student_login
from tucai.core.errors import TucaiError

SESSION_KEY = "tucai_capture_students"  # {campaign id: student id}


def qr_svg(text: str, *, scale: int = 6) -> str:
    # No fixed size: a viewBox lets CSS scale the code to the phone or the printed card.
    return segno.make(text, error="m").svg_inline(scale=scale, border=2, omitsize=True)


def session_student(request, campaign) -> Student | None:
    student_id = request.session.get(SESSION_KEY, {}).get(str(campaign.pk))
    if student_id is None:
        return None
    return (Student.objects.select_related("school_class")
            .filter(pk=student_id, campaign=campaign, status=StudentStatus.ACTIVE).first())


@never_cache
@require_http_methods(["GET", "POST"])
def me_login(request, code: str):
    campaign = get_object_or_404(Campaign, code=code)
    error = None
    if request.method == "GET" and session_student(request, campaign) is not None:
        # Already signed in (the browser's Back button after signing in): straight to the code page.
        return HttpResponseRedirect(reverse("capture:me", args=[campaign.code]))
    if request.method == "POST":
        try:
            student = student_login(campaign=campaign, student_no=request.POST.get("student_no", ""),
                                    doc_tail=request.POST.get("doc_tail", ""), ip=client_ip(request))
        except TucaiError as exc:
            error = exc
        else:
            request.session.cycle_key()  # a new session id at sign-in (no fixation)
            students = dict(request.session.get(SESSION_KEY, {}))
            students[str(campaign.pk)] = student.pk
            request.session[SESSION_KEY] = students
            return HttpResponseRedirect(reverse("capture:me", args=[campaign.code]))
    return render(request, "capture/me_login.html", {"campaign": campaign, "error": error,
                                                     "student_no": request.POST.get("student_no", "")},
                  status=429 if error is not None and error.code == "login.rate_limited" else 200)


@never_cache
def me(request, code: str):
    campaign = get_object_or_404(Campaign, code=code)
    student = session_student(request, campaign)
    if student is None:
        return HttpResponseRedirect(reverse("capture:me_login", args=[campaign.code]))
    capture_code = capture_code_ensure(student=student, actor_label="student")
    from tucai.proofing.selectors import student_proofing  # after the shoot: proofreading (校对) on the same page

    return render(request, "capture/me.html", {
        "campaign": campaign, "student": student, "code": capture_code,
        "qr": mark_safe(qr_svg(capture_code.token)),  # noqa: S308 — SVG made by segno from our own token
        **_status(student), **student_proofing(student=student),
        # A correction request the server refused, kept to be fixed rather than typed again (proofing.me_reply).
        "proof_draft": request.session.pop("proof_draft", None)})


@never_cache
def me_status(request, code: str):
    campaign = get_object_or_404(Campaign, code=code)
    student = session_student(request, campaign)
    if student is None:
        return render(request, "capture/_me_status.html", {"signed_out": True}, status=401)
    return render(request, "capture/_me_status.html", {"campaign": campaign, **_status(student)})


def _status(student) -> dict:
    ticket = selectors.student_latest_ticket(student=student)
    return {"ticket": ticket, "ahead": selectors.ticket_position(ticket=ticket) if ticket else None}


@require_POST
def me_logout(request, code: str):
    campaign = get_object_or_404(Campaign, code=code)
    students = dict(request.session.get(SESSION_KEY, {}))
    students.pop(str(campaign.pk), None)
    request.session[SESSION_KEY] = students
    return HttpResponseRedirect(reverse("capture:me_login", args=[campaign.code]))
