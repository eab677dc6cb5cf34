"""Proofreading pages: the student's part of their phone page (photo, data, confirm or correct) and
the office's page (publish, counts, answer corrections, the reminder list)."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tucai.campaigns.models import Campaign
from tucai.campaigns.views import get_campaign_for
from tucai.capture.views_student import session_student
from tucai.core.downloads import export_response
from tucai.core.errors import TucaiError
from tucai.core.spreadsheets import csv_bytes, xlsx_bytes
from tucai.proofing import selectors, services
from tucai.proofing.models import CorrectionField, Proof, ProofState

PERM = "proofing.manage"
log = logging.getLogger(__name__)


@never_cache
@require_GET
def me_photo(request, code: str):
    """The student's own accepted photo (no URL carries a student id: only the signed-in student's)."""
    campaign = get_object_or_404(Campaign, code=code)
    student = session_student(request, campaign)
    shot = selectors.student_proof_photo(student=student) if student is not None else None
    window = selectors.proofing_window(campaign=campaign)
    if shot is None or window is None or timezone.now() < window.opens_at:
        raise Http404
    try:
        with shot.normalized.open("rb") as fh:
            resp = HttpResponse(fh.read(), content_type="image/jpeg")
    except FileNotFoundError:
        log.error("proofing: photo file of shot %s is missing from storage", shot.pk)
        raise Http404 from None
    resp["Cache-Control"] = "private, no-store"
    return resp


@require_POST
def me_reply(request, code: str):
    campaign = get_object_or_404(Campaign, code=code)
    student = session_student(request, campaign)
    if student is None:
        return HttpResponseRedirect(reverse("capture:me_login", args=[campaign.code]))
    to = ProofState.CONFIRMED if request.POST.get("action") == "confirm" else ProofState.OPEN
    try:
        services.proof_reply(student=student, to=to, field=request.POST.get("field", ""),
                             detail=request.POST.get("detail", ""))
    except TucaiError as exc:
        if to == ProofState.OPEN:
            # Back to the form with what was typed and the error beside it (not only at the page top).
            field = request.POST.get("field", "")
            request.session["proof_draft"] = {"field": field if field in CorrectionField.values else "",
                                              "detail": request.POST.get("detail", "")[:2000], "error": str(exc.message)}
        else:
            messages.error(request, exc.message)
    else:
        messages.success(request, _("已确认无误，谢谢") if to == ProofState.CONFIRMED else _("勘误申请已提交，教务处处理后会在此显示结果"))
    return HttpResponseRedirect(reverse("capture:me", args=[campaign.code]) + "#proofing")


def _pending_download(request, campaign, class_ids):
    """``?export=xlsx|csv`` of the reminder list (the office's page and the class monitors' share it)."""
    rows = lambda: selectors.proof_pending_rows(campaign=campaign, class_ids=class_ids)  # noqa: E731
    return export_response(
        request, stem=f"proofing-pending-{campaign.code}", sheets=["未回复"], default_sheet="未回复",
        xlsx=lambda: xlsx_bytes([("未回复", selectors.PENDING_COLUMNS, rows())]),
        csv=lambda sheet: csv_bytes(selectors.PENDING_COLUMNS, rows()))


@login_required
def office(request, code: str):
    campaign = get_campaign_for(request, code, PERM)
    download = _pending_download(request, campaign, None)
    if download is not None:
        return download
    if request.method == "POST":
        try:
            services.proofing_open(campaign=campaign, actor=request.user)
        except TucaiError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("proofing:office", args=[campaign.code]))
    window = selectors.proofing_window(campaign=campaign)
    overview = selectors.proofing_overview(campaign=campaign)
    return render(request, "proofing/office.html", {
        "campaign": campaign, "window": window, "is_open": selectors.window_is_open(window),
        "overview": overview, "corrections": selectors.proofs_open(campaign=campaign),
        "pending": overview["pending"][:200],
        "answers": [(ProofState.FIXED, ProofState.FIXED.label), (ProofState.RETAKE, ProofState.RETAKE.label),
                    (ProofState.REJECTED, ProofState.REJECTED.label)]})


@login_required
@require_POST
def answer(request, code: str, proof_id: int):
    campaign = get_campaign_for(request, code, PERM)
    proof = get_object_or_404(Proof, pk=proof_id, campaign=campaign)
    try:
        services.proof_answer(proof=proof, to=request.POST.get("to", ""), answer=request.POST.get("answer", ""),
                              actor=request.user, seen=request.POST.get("seen") or None)
    except TucaiError as exc:
        messages.error(request, f"{proof.student}: {exc.message}")
    return HttpResponseRedirect(reverse("proofing:office", args=[campaign.code]) + "#corrections")


@login_required
@require_GET
def pending(request, code: str):
    """The reminder list: the office sees every class, a class monitor (班长) their own class."""
    from tucai.accounts.selectors import user_class_scope
    from tucai.core.errors import PermissionDenied as TucaiPermissionDenied

    campaign = get_campaign_for(request, code, "campaign.view")
    try:
        class_ids = user_class_scope(user=request.user, campaign=campaign, perm=PERM)
    except TucaiPermissionDenied:
        raise PermissionDenied from None
    download = _pending_download(request, campaign, class_ids)
    if download is not None:
        return download
    window = selectors.proofing_window(campaign=campaign)
    return render(request, "proofing/pending.html", {
        "campaign": campaign, "window": window, "is_open": selectors.window_is_open(window),
        "pending": selectors.proof_pending_students(campaign=campaign, class_ids=class_ids),
        "class_scoped": class_ids is not None})
