"""Background tasks (django-tasks): inline with the embedded immediate backend, a worker in production."""

from __future__ import annotations

from django_tasks import task


@task()
def shot_check_task(shot_id: int) -> str:
    """Run the photo check for one shot; returns the verdict (or "" when the shot is gone)."""
    from tucai.stations.services import shot_check

    shot = shot_check(shot_id=shot_id)
    return shot.verdict if shot is not None else ""
