"""The production HTTP server: ``tucai serve`` runs ``tucai.wsgi`` under granian (WSGI interface).

Why granian and not gunicorn: on the capture day the check-in desks are the busiest clients
(short JSON requests, two PostgreSQL round trips each). Measured with ``bench/checkin_load.py
--rate 500`` on the project's 2-CPU machine (PostgreSQL, 16 desks, the same app, both with the
gc.freeze() of tucai.wsgi): gunicorn gthread (4 processes × 4 threads) spent 1.85–1.99 ms of server
CPU per check-in and answered with p99 44–77 ms; granian (2 × 4), whose HTTP handling is native
code, 1.49–1.51 ms and p99 13–15 ms. The issue note of issue 4 has the runs.

Sizing (environment, or the command's options, which win):
``TUCAI_BIND`` (127.0.0.1:8000); ``TUCAI_WORKERS``: processes — one per CPU (at most 8: each holds
up to ``threads`` database connections) on PostgreSQL, 1 on SQLite, which has one writer at a time
(writers in one process queue on a lock and wake at once; in different processes they sleep in
SQLite's busy handler); ``TUCAI_THREADS`` (4): threads per process that run the Django app. A
thread is held for a whole response, a slow client's photo download included, so a few are needed
to keep the desks answered; more only queue on the GIL (2 processes on PostgreSQL, 16 desks as fast
as answered: 2 threads each 794–822 check-ins/s, 4 747–824/s, 8 719/s).
Run it under a supervisor that restarts it (systemd ``Restart=always``, see the README): granian
brings back a worker that dies, but a worker that dies twice within seconds stops the whole server.
No Django import here: the command reads these before any worker starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

WSGI_TARGET = "tucai.wsgi:application"


@dataclass(frozen=True)
class ServerOptions:
    host: str
    port: int
    workers: int
    threads: int


def _positive(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value


def parse_bind(text: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8000`` for IPv6, ``:8000`` for all IPv4 addresses) → (host, port)."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bind address must be host:port, not {text!r}")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def server_options(env: Mapping[str, str] | None = None, *, bind: str | None = None, workers: int | None = None,
                   threads: int | None = None, cpus: int | None = None) -> ServerOptions:
    """The server's size from the environment (``env``, default ``os.environ``) and explicit overrides."""
    env = os.environ if env is None else env
    cpus = cpus or os.cpu_count() or 1
    sqlite = (env.get("TUCAI_DATABASE_URL") or "sqlite:").startswith("sqlite")
    host, port = parse_bind(bind or env.get("TUCAI_BIND") or "127.0.0.1:8000")
    if workers is None:
        workers = _positive("TUCAI_WORKERS", env["TUCAI_WORKERS"]) if env.get("TUCAI_WORKERS") else (
            1 if sqlite else min(8, cpus))
    if threads is None:
        threads = _positive("TUCAI_THREADS", env["TUCAI_THREADS"]) if env.get("TUCAI_THREADS") else 4
    for name, value in (("workers", workers), ("threads", threads)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, not {value}")
    return ServerOptions(host=host, port=port, workers=workers, threads=threads)


def port_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port``. granian binds with SO_REUSEPORT, so a second server
    started on a port in use would not fail: it would quietly take a share of the connections (old
    code answering during a deploy; two SQLite writers). A plain bind does fail."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart's TIME_WAIT is not "in use"
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def serve(options: ServerOptions, *, log_level: str = "info", access_log: bool = False) -> None:
    """Run granian in the foreground until SIGINT/SIGTERM (workers are forked from this process)."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    Server(WSGI_TARGET, address=options.host, port=options.port, interface=Interfaces.WSGI,
           workers=options.workers, blocking_threads=options.threads, websockets=False,
           # A desk keeps its connection between scans (no TCP set-up per scan).
           http1_settings=HTTP1Settings(keep_alive=True), backlog=2048,
           # A worker that dies comes back (once: a second death within seconds ends the server,
           # which its supervisor then restarts).
           respawn_failed_workers=True,
           # On SIGTERM a worker finishes its requests; one that has not stopped after this many
           # seconds is killed, so a stop never hangs on a stuck request.
           workers_kill_timeout=30, log_level=LogLevels(log_level), log_access=access_log).serve()
