"""gunicorn settings for tucai: ``gunicorn -c python:tucai.gunicorn_conf tucai.wsgi``.

Sized for the capture day on a small server (the check-in desks are the busiest clients: short
JSON requests, each answered after two PostgreSQL round trips). Override with the environment:
``TUCAI_BIND`` (127.0.0.1:8000), ``TUCAI_WORKERS`` (2 per CPU on PostgreSQL, 1 on SQLite),
``TUCAI_THREADS`` (4), ``TUCAI_KEEPALIVE`` (60 s; 0 closes each connection after its answer),
``TUCAI_WORKER_CONNECTIONS`` (threads + 2 with several processes),
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
workers = int(os.environ.get("TUCAI_WORKERS", "1" if _sqlite else str(2 * (os.cpu_count() or 1))))
# A few threads per process overlap the database round trips; more only queue on the GIL.
threads = int(os.environ.get("TUCAI_THREADS", "4"))
# A desk keeps its connection between scans (no TCP set-up per scan), but a kept-alive connection
# stays with the process that accepted it, and with a handful of desks chance can give one
# process twice the desks of another: those desks wait twice as long (the bench prints each
# desk's mean latency). A process therefore holds at most its threads + 2 connections and keeps
# at most 2 of them idle; over that, gunicorn answers with "Connection: close" and the client's
# next request goes to whichever process accepts it first — a less busy one. In the 16-desk bench
# that is one reconnect per ~30 scans. Phones and displays polling every 1–3 s reconnect more
# often (cheap on a LAN; behind a reverse proxy upstream connections are per request anyway).
keepalive = int(os.environ.get("TUCAI_KEEPALIVE", "60"))  # seconds
# (With one process there is nothing to balance: gunicorn's default.)
worker_connections = int(os.environ.get("TUCAI_WORKER_CONNECTIONS", str(threads + 2 if workers > 1 else 1000)))
backlog = 2048
# Import Django once in the master: workers fork ready (shared memory, a broken app fails at start).
preload_app = True

# A thread that comes back from the database waits for the GIL until the running thread yields it,
# at most this interval (CPython's default 5 ms); a check-in has several such waits, so under load
# the default adds tens of milliseconds to the tail. 1 ms costs little more switching.
_switch_s = float(os.environ.get("TUCAI_GIL_SWITCH_MS", "1")) / 1000


def post_fork(server, worker):
    sys.setswitchinterval(_switch_s)
