"""``tucai run``: migrate, create the demo campaign (idempotent), print the logins, serve."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Migrate, load the demo campaign (embedded SQLite default only, unless --demo) and serve the site "
            "with Django's development server. Production serves tucai.wsgi with a real WSGI server.")

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--demo", action="store_true", help="create the demo campaign on any database")
        group.add_argument("--no-demo", action="store_true", help="do not create the demo campaign")

    def handle(self, *args, addrport, demo, no_demo, **options):
        call_command("migrate", interactive=False, verbosity=0)
        embedded = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        if demo or (embedded and not no_demo):
            call_command("demo")
        elif not no_demo:
            # A demo superuser with a printed password does not belong on a production database.
            self.stdout.write("Not creating the demo campaign on a non-embedded database (use --demo to force).")
        self.stdout.write(self.style.SUCCESS(f"Serving on http://{addrport}/"))
        call_command("runserver", addrport, use_reloader=False)
