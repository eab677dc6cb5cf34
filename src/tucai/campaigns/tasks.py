"""Background tasks of the campaigns app (django-tasks: in-process by default, a worker in production)."""

from __future__ import annotations

import logging

from django_tasks import task

from tucai.campaigns.models import ImportJob, ImportJobStatus
from tucai.core.errors import TucaiError

log = logging.getLogger(__name__)


def _fail(job_id: int, exc: BaseException) -> None:
    """An unexpected error must not leave the page polling forever."""
    from tucai.campaigns.services.roster import import_job_transition

    job = ImportJob.objects.get(pk=job_id)
    if job.status in (ImportJobStatus.VALIDATING, ImportJobStatus.COMMITTING):
        import_job_transition(job=job, to=ImportJobStatus.FAILED, error={
            "code": "import_job.crashed", "message_zh": "导入任务意外中止，未写入任何数据；请重试或联系管理员",
            "message_en": "The import job stopped unexpectedly; nothing was written. Retry or ask an administrator",
            "details": {"exception": type(exc).__name__}})


@task()
def roster_validate_task(job_id: int) -> str:
    """Dry run of an uploaded roster: row errors or a summary of what would change."""
    from tucai.campaigns.services.roster import import_job_validate

    job = ImportJob.objects.select_related("campaign").get(pk=job_id)
    try:
        return import_job_validate(job=job).status
    except TucaiError as exc:
        if exc.code == "import_job.illegal_transition":  # already being handled by another run: leave it
            return ImportJob.objects.get(pk=job_id).status
        _fail(job_id, exc)
        raise
    except Exception as exc:
        log.exception("roster validation of job %s failed", job_id)
        _fail(job_id, exc)
        raise


@task()
def roster_commit_task(job_id: int, user_id: int | None = None) -> str:
    """Write a validated roster, all or nothing."""
    from tucai.accounts.models import User
    from tucai.campaigns.services.roster import import_job_commit

    job = ImportJob.objects.select_related("campaign").get(pk=job_id)
    actor = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        return import_job_commit(job=job, actor=actor).status
    except TucaiError as exc:
        if exc.code == "import_job.illegal_transition":  # a second click on 确认导入: the first one runs
            return ImportJob.objects.get(pk=job_id).status
        _fail(job_id, exc)
        raise
    except Exception as exc:
        log.exception("roster commit of job %s failed", job_id)
        _fail(job_id, exc)
        raise
