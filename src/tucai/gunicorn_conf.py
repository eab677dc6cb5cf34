"""gunicorn settings for tucai: ``gunicorn -c python:tucai.gunicorn_conf tucai.wsgi``.

Sized for the capture day on a small server (the check-in desks are the busiest clients: short
JSON requests, each answered after two PostgreSQL round trips). Override with the environment:
``TUCAI_BIND`` (127.0.0.1:8000), ``TUCAI_WORKERS`` (2 per CPU, at most 8, on PostgreSQL; 1 on SQLite),
``TUCAI_THREADS`` (4), ``TUCAI_KEEPALIVE`` (60 s; 0 closes each connection after its answer),
``TUCAI_WORKER_CONNECTIONS`` (1000),
``TUCAI_GIL_SWITCH_MS`` (1), or with gunicorn's own command-line options, which win.
"""

from __future__ import annotations

import os
import sys

bind = os.environ.get("TUCAI_BIND", "127.0.0.1:8000")
# gthread: a kept-alive desk connection waits in the poller and takes a thread only while a
# request runs. Python runs one thread per process at a time (GIL), so CPUs are used through
# processes: two per CPU keep both busy while the other waits for the database.
worker_class = "gthread"
# SQLite (the embedded default) has one writer at a time: writers in one process queue on a lock
# and wake at once (services.checkin), writers in different processes wait in SQLite's busy
# handler, which sleeps in steps of up to 100 ms — so one process there.
_sqlite = (os.environ.get("TUCAI_DATABASE_URL") or "sqlite:").startswith("sqlite")
# At most 8 by default: each process holds up to ``threads`` PostgreSQL connections, and a big host (or a
# container that sees the host's CPUs) would otherwise pass PostgreSQL's default max_connections (100).
workers = int(os.environ.get("TUCAI_WORKERS", "1" if _sqlite else str(min(8, 2 * (os.cpu_count() or 1)))))
# A few threads per process overlap the database round trips; more only queue on the GIL.
threads = int(os.environ.get("TUCAI_THREADS", "4"))
# A desk keeps its connection between scans (no TCP set-up per scan). gunicorn's gthread worker counts
# a connection that has not sent a request yet against worker_connections until keepalive runs out,
# so a low limit (tried: threads + 2, to spread kept-alive desks over the processes) lets a dozen
# idle sockets — or browsers' pre-connects — shut every process out: gunicorn's default 1000 stays.
keepalive = int(os.environ.get("TUCAI_KEEPALIVE", "60"))  # seconds
worker_connections = int(os.environ.get("TUCAI_WORKER_CONNECTIONS", "1000"))
backlog = 2048
# Import Django once in the master: workers fork ready (shared memory, a broken app fails at start).
preload_app = True

# A thread that comes back from the database waits for the GIL until the running thread yields it,
# at most this interval (CPython's default 5 ms); a check-in has several such waits, so under load
# the default adds tens of milliseconds to the tail. 1 ms costs little more switching.
_switch_s = float(os.environ.get("TUCAI_GIL_SWITCH_MS", "1")) / 1000


def post_fork(server, worker):
    sys.setswitchinterval(_switch_s)
