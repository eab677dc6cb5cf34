"""``tucai run``: migrate, create the demo campaign (idempotent), print the admin login, serve."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Set up the embedded default (SQLite, local media), load the demo campaign and serve the site."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-demo", action="store_true", help="do not create the demo campaign")

    def handle(self, *args, addrport, no_demo, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo:
            call_command("demo")
        self.stdout.write(self.style.SUCCESS(f"Serving on http://{addrport}/"))
        call_command("runserver", addrport, use_reloader=False)
