"""``tucai serve``: the production HTTP server (granian running ``tucai.wsgi``), see ``tucai.server``."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from tucai.server import port_free, server_options, serve


class Command(BaseCommand):
    help = ("Serve the site for production with granian (WSGI): TUCAI_BIND, TUCAI_WORKERS, TUCAI_THREADS or the "
            "options below size it. Run `tucai migrate` and `tucai collectstatic` first.")
    requires_system_checks = []  # `tucai check --deploy` is the place for them; workers import the app anyway

    def add_arguments(self, parser):
        parser.add_argument("--bind", help="host:port (default: TUCAI_BIND or 127.0.0.1:8000)")
        parser.add_argument("--workers", type=int, help="processes (default: one per CPU, at most 8; 1 on SQLite)")
        parser.add_argument("--threads", type=int, help="threads per process (default: TUCAI_THREADS or 4)")
        parser.add_argument("--log-level", default="info",
                            choices=["critical", "error", "warning", "info", "debug"])
        parser.add_argument("--access-log", action="store_true", help="a line per request")

    def handle(self, *args, bind, workers, threads, log_level, access_log, **options):
        try:
            opts = server_options(bind=bind, workers=workers, threads=threads)
        except ValueError as exc:
            raise CommandError(f"启动参数有误 / bad server setting: {exc}") from None
        if not port_free(opts.host, opts.port):
            raise CommandError(f"{opts.host}:{opts.port} 已被占用（tucai 是否已在运行？） / is already in use "
                               "(is tucai already serving there?)")
        # Workers are forked from this process: none may inherit a database connection.
        connections.close_all()
        self.stdout.write(f"Serving tucai on http://{opts.host}:{opts.port}/ "
                          f"({opts.workers} processes × {opts.threads} threads, granian)")
        self.stdout.flush()
        serve(opts, log_level=log_level, access_log=access_log)
