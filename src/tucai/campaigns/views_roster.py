"""Roster pages: upload → dry run (row errors or what would change) → confirm → commit; exports.

The work runs as django-tasks tasks (in-process by default, a worker in production); the job page
polls its status with htmx while a job is running."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tucai.campaigns.forms_roster import RosterUploadForm
from tucai.campaigns.models import ImportJob, ImportJobStatus
from tucai.campaigns.services.exports import FORMATS, export_filename, roster_export
from tucai.core.spreadsheets import csv_bytes
from tucai.campaigns.services.roster import import_job_cancel, import_job_create
from tucai.campaigns.tasks import roster_commit_task, roster_validate_task
from tucai.campaigns.views import get_campaign_for
from tucai.core.errors import TucaiError

ERRORS_SHOWN = 500


def _job_for(request, code: str, job_id: int):
    campaign = get_campaign_for(request, code, perm="roster.import")
    job = get_object_or_404(ImportJob.objects.select_related("campaign", "created_by"), pk=job_id, campaign=campaign)
    return campaign, job


@login_required
def roster_home(request, code: str):
    campaign = get_campaign_for(request, code, perm="roster.import")
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_job_create(campaign=campaign, upload=upload, filename=upload.name,
                                    full=form.cleaned_data["full"], actor=request.user)
        except TucaiError as e:
            form.add_error("file", e.message)
        else:
            roster_validate_task.enqueue(job.pk)
            return redirect("campaigns:roster_job", code=campaign.code, job_id=job.pk)
    jobs = ImportJob.objects.filter(campaign=campaign).select_related("created_by")[:10]
    return render(request, "campaigns/roster/import.html", {
        "campaign": campaign, "form": form, "jobs": jobs, "student_count": campaign.students.count(),
    })


@login_required
def roster_job(request, code: str, job_id: int):
    campaign, job = _job_for(request, code, job_id)
    ctx = {"campaign": campaign, "job": job, "errors": job.errors[:ERRORS_SHOWN],
           "errors_more": max(0, len(job.errors) - ERRORS_SHOWN)}
    if request.headers.get("HX-Request"):
        return render(request, "campaigns/roster/_job.html", ctx)
    return render(request, "campaigns/roster/job.html", ctx)


@login_required
@require_POST
def roster_job_commit(request, code: str, job_id: int):
    campaign, job = _job_for(request, code, job_id)
    if job.status != ImportJobStatus.VALID:
        messages.error(request, _("只有检查通过的导入才能确认"))
        return redirect("campaigns:roster_job", code=campaign.code, job_id=job.pk)
    roster_commit_task.enqueue(job.pk, request.user.pk)
    return redirect("campaigns:roster_job", code=campaign.code, job_id=job.pk)


@login_required
@require_POST
def roster_job_cancel(request, code: str, job_id: int):
    campaign, job = _job_for(request, code, job_id)
    try:
        import_job_cancel(job=job)
    except TucaiError as e:
        messages.error(request, e.message)
    return redirect("campaigns:roster_import", code=campaign.code)


@login_required
def roster_job_errors_csv(request, code: str, job_id: int):
    campaign, job = _job_for(request, code, job_id)
    data = csv_bytes([_("行号"), _("列"), _("错误代码"), _("说明"), _("内容")],
                     ([str(e["row"]), e["column"], e["code"], e["message_zh"], e.get("value", "")] for e in job.errors))
    resp = HttpResponse(data, content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="roster-errors-{job.pk}.csv"'
    return resp


@login_required
def roster_export_download(request, code: str, fmt: str):
    if fmt not in FORMATS:
        raise Http404
    campaign = get_campaign_for(request, code, perm="roster.export")
    data = roster_export(campaign=campaign, fmt=fmt, user=request.user)
    content_type = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
                    else "text/csv; charset=utf-8")
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=export_filename(campaign=campaign, fmt=fmt),
                        content_type=content_type)

