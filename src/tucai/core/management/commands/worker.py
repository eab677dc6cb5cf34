"""``tucai worker``: run background tasks from the database queue (production, TUCAI_TASKS=database)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the background task worker for the database task backend (TUCAI_TASKS=database)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="process what is queued, then exit")

    def handle(self, *args, batch, **options):
        backend = settings.TASKS["default"]["BACKEND"]
        if "django_tasks_db" not in backend:
            raise CommandError(
                f"tasks run in-process with {backend}; set TUCAI_TASKS=database to use a worker "
                "(or TUCAI_TASKS=rq and run `tucai rqworker default`)")
        call_command("db_worker", *(["--batch"] if batch else []))
