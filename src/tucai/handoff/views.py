"""The office's hand-off page: who would be in the package and who not, and the download."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from tucai.campaigns.views import get_campaign_for
from tucai.core.errors import TucaiError
from tucai.handoff.services import DEFAULT_NAMING, NAMING_FIELDS, REASONS, handoff_build, handoff_collect

PERM = "handoff.build"


LEFT_OUT_SHOWN = 200


def _render(request, campaign, *, naming: str, error: TucaiError | None = None, status: int = 200):
    result = None
    if error is None or error.code not in ("handoff.bad_naming", "handoff.duplicate_name"):
        try:
            # From the database only: reading every photo file belongs to the build, not to a page view.
            result = handoff_collect(campaign=campaign, naming=naming, check_files=False)
        except TucaiError as exc:
            error = exc
            status = 400
    left_out, left_out_total = [], 0
    if result is not None:
        entries = result.missing + result.invalid
        left_out_total = len(entries)
        # Before the shoot every student is "left out": the page shows the first ones, the package lists all.
        left_out = [{"student": e.student, "reason": e.reason, "message": REASONS[e.reason]}
                    for e in entries[:LEFT_OUT_SHOWN]]
    from tucai.proofing.selectors import proofing_window, window_is_open

    window = proofing_window(campaign=campaign)
    return render(request, "handoff/page.html", {
        "campaign": campaign, "result": result, "left_out": left_out, "left_out_more": left_out_total - len(left_out),
        "naming": naming, "error": error,
        "fields": NAMING_FIELDS, "proofing_window": window, "proofing_open": window_is_open(window)},
        status=status)


@login_required
@require_GET
def page(request, code: str):
    campaign = get_campaign_for(request, code, PERM)
    return _render(request, campaign, naming=request.GET.get("naming") or DEFAULT_NAMING)


@login_required
@require_POST
def build(request, code: str):
    campaign = get_campaign_for(request, code, PERM)
    naming = (request.POST.get("naming") or DEFAULT_NAMING).strip()
    tmp = tempfile.TemporaryDirectory(prefix="tucai-handoff-")
    out = Path(tmp.name) / f"chsi-{campaign.code}.zip"
    try:
        handoff_build(campaign=campaign, out=out, naming=naming, require_all=bool(request.POST.get("require_all")),
                      actor=request.user)
    except TucaiError as exc:
        tmp.cleanup()
        return _render(request, campaign, naming=naming, error=exc, status=400)
    except BaseException:
        tmp.cleanup()
        raise
    fh = out.open("rb")
    tmp.cleanup()  # the open file stays readable until the response has sent it (POSIX)
    return FileResponse(fh, as_attachment=True, filename=out.name, content_type="application/zip")
