"""Capture-code administration: printable sheets per class, revoke and re-issue (both audited)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from tucai.campaigns.views import get_campaign_for
from tucai.accounts.selectors import user_sees_full_id
from tucai.campaigns.models import Campaign, SchoolClass, Student
from tucai.capture import selectors
from tucai.capture.models import CaptureCode
from tucai.capture.services import codes as code_services
from tucai.capture.views_student import qr_svg
from tucai.core.errors import TucaiError

PERM = "checkin.perform"


def _campaign(request, code: str) -> Campaign:
    return get_campaign_for(request, code, PERM)


@login_required
@require_GET
def codes_index(request, code: str):
    campaign = _campaign(request, code)
    q = request.GET.get("q", "").strip()
    students = code_services.student_manual_lookup(campaign=campaign, query=q, actor=request.user,
                                                   desk="codes") if q else []
    return render(request, "capture/codes_index.html", {
        "campaign": campaign, "classes": SchoolClass.objects.filter(campaign=campaign).order_by("name"),
        "students": students, "q": q})


@login_required
@require_GET
def codes_sheet(request, code: str, class_id: int):
    """One card per student (QR, name, class, 学号) for students without a phone. Prints on A4."""
    campaign = _campaign(request, code)
    school_class = get_object_or_404(SchoolClass, pk=class_id, campaign=campaign)
    issued = code_services.capture_codes_ensure_for_class(school_class=school_class, actor=request.user)
    students = {s.pk: s for s in Student.objects.filter(pk__in=[c.student_id for c in issued])}
    cards = [{"student": students[c.student_id], "code": c,
              "qr": mark_safe(qr_svg(c.token, scale=4))} for c in issued]  # noqa: S308 — segno SVG of our token
    return render(request, "capture/codes_sheet.html", {"campaign": campaign, "school_class": school_class,
                                                        "cards": cards})


@login_required
def codes_student(request, code: str, student_id: int):
    campaign = _campaign(request, code)
    student = get_object_or_404(Student.objects.select_related("school_class"), pk=student_id, campaign=campaign)
    history = CaptureCode.objects.filter(student=student).order_by("-version")
    return render(request, "capture/codes_student.html", {
        "campaign": campaign, "student": student, "history": history,
        "active": selectors.capture_code_active(student=student),
        "full_id": user_sees_full_id(user=request.user, institution_id=campaign.institution_id),
        "foreign": student.foreign_codes.all()})


@login_required
@require_POST
def codes_reissue(request, code: str, student_id: int):
    campaign = _campaign(request, code)
    student = get_object_or_404(Student, pk=student_id, campaign=campaign)
    new = code_services.capture_code_issue(student=student, actor=request.user,
                                           note=request.POST.get("reason", "")[:200])
    messages.success(request, f"已重新发放采集码（第 {new.version} 版），旧码作废")
    return HttpResponseRedirect(reverse("capture:codes_student", args=[campaign.code, student.pk]))


@login_required
@require_POST
def codes_revoke(request, code: str, student_id: int):
    campaign = _campaign(request, code)
    student = get_object_or_404(Student, pk=student_id, campaign=campaign)
    active = selectors.capture_code_active(student=student)
    try:
        if active is None:
            raise TucaiError("code.none_active", "该学生没有有效的采集码", "The student has no active code")
        code_services.capture_code_revoke(code=active, actor=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, "采集码已作废")
    except TucaiError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("capture:codes_student", args=[campaign.code, student.pk]))
