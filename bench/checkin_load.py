"""Load on the check-in desk endpoint over HTTP: check-ins per second and p50/p99 latency.

Creates a campaign with N students and their capture codes in a fresh database (SQLite in a
temporary data directory, or with ``--db postgres://user@host:port/`` a throw-away database
``tucai_bench_<pid>`` on that server, dropped afterwards), starts the site on 127.0.0.1 the way
production does (``tucai serve``: granian, sized by ``tucai/server.py``; for comparison ``--server
gunicorn`` or ``uwsgi`` when installed, or ``wsgiref``: a small pre-fork server with a thread pool,
sharing the port with SO_REUSEPORT), and drives the
desk's check-in with ``--clients`` concurrent asyncio clients — ``--api desk`` (default): the desk
page's ``POST /capture/api/desk/checkin/`` with a desk token per room; ``--api session``: the
session + CSRF ``POST /capture/api/checkin/`` — every student once,
plus repeat scans (new nonce) and retried submissions (same nonce). Bounded by ``--students``,
``--max-requests`` and ``--duration``. Afterwards it checks the database: one ticket per student,
numbers 1..n per room without duplicates or gaps.

    .venv/bin/python bench/checkin_load.py                       # SQLite
    .venv/bin/python bench/checkin_load.py --db postgres://postgres@127.0.0.1:5432/
    .venv/bin/python bench/checkin_load.py --target http://127.0.0.1:8000 --db ...  # a server you started
                                                                 # on the same database (see --setup-only)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
DAY = "2024-03-01"


# --- the server: Django's WSGI app under wsgiref, one process per worker ---------------------

def serve(port: int, threads: int) -> None:
    """Run one worker process: a WSGI server with a fixed pool of threads (so each thread keeps its
    database connection across requests), bound with SO_REUSEPORT (the kernel spreads connections
    over the worker processes)."""
    import queue
    import threading
    from wsgiref.simple_server import WSGIServer

    from django.core.servers.basehttp import WSGIRequestHandler  # HTTP/1.1 keep-alive, like a browser's
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()

    class Handler(WSGIRequestHandler):
        def log_message(self, *args):  # no per-request line on stderr
            pass

    class PoolServer(WSGIServer):
        request_queue_size = 1024

        def server_bind(self):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            super().server_bind()

        def process_request(self, request, client_address):
            jobs.put((request, client_address))

        def work(self):
            while True:
                request, client_address = jobs.get()
                try:
                    self.finish_request(request, client_address)
                except Exception:  # noqa: BLE001 — one bad request must not kill the worker thread
                    self.handle_error(request, client_address)
                finally:
                    self.shutdown_request(request)

    jobs: queue.Queue = queue.Queue()
    httpd = PoolServer(("127.0.0.1", port), Handler)
    httpd.set_app(app)
    for _ in range(threads):
        threading.Thread(target=httpd.work, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    profile_to = os.environ.get("TUCAI_BENCH_PROFILE")  # with --threads 1: where the server's time goes
    if profile_to:
        import cProfile

        prof = cProfile.Profile()
        real_finish = httpd.finish_request

        def finish_request(*a):
            prof.enable()
            try:
                real_finish(*a)
            finally:
                prof.disable()

        httpd.finish_request = finish_request
        signal.signal(signal.SIGTERM, lambda *a: (prof.dump_stats(f"{profile_to}.{os.getpid()}"), sys.exit(0)))
    httpd.serve_forever(poll_interval=0.2)


def cpu_seconds(pids) -> float:
    """user+system CPU seconds of these processes so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def server_children(pids: list[int]) -> list[int]:
    """Worker processes forked by these (gunicorn's master forks its workers)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid in pids:
                out.append(int(d.name))
    return out


def bench_backends(url: str, dbname: str) -> list[int]:
    import psycopg

    u = urlparse(url)
    with psycopg.connect(host=u.hostname, port=u.port or 5432, user=u.username or "postgres",
                         password=u.password, dbname="postgres", autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (dbname,))]


def postgres_pids() -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() in ("postgres", "postmaster"):
                    out.append(int(d.name))
            except OSError:
                pass
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- data ------------------------------------------------------------------------------------

def setup_data(students: int, rooms: int) -> dict:
    """Campaign, rooms, one class per 45 students, a code per student, an operator with a session."""
    import datetime as dt

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.contrib.sessions.backends.db import SessionStore

    from tucai.accounts.models import Membership, User
    from tucai.campaigns.models import Campaign, Department, Institution, Room, SchoolClass, Student
    from tucai.capture.models import CaptureCode
    from tucai.capture.services.codes import code_token_make

    inst = Institution.objects.create(code=f"bench{os.getpid()}", name=f"压测学院{os.getpid()}")
    day = dt.date.fromisoformat(DAY)
    campaign = Campaign.objects.create(institution=inst, code=f"bench-{os.getpid()}", name="压测", graduation_year=2024,
                                       capture_start=day, capture_end=day)
    dept = Department.objects.create(institution=inst, name="信息工程学院")
    room_ids = [Room.objects.create(institution=inst, building="实训楼", name=f"{101 + i}").pk for i in range(rooms)]
    classes = [SchoolClass.objects.create(campaign=campaign, department=dept, name=f"软件{i:03d}")
               for i in range((students + 44) // 45)]
    Student.objects.bulk_create([
        Student(campaign=campaign, student_no=f"24{i:07d}", name=f"学生{i}", doc_number=f"B{i:017d}",
                school_class=classes[i // 45]) for i in range(students)], batch_size=2000)
    ids = list(Student.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True))
    CaptureCode.objects.bulk_create([
        CaptureCode(campaign=campaign, student_id=sid, version=1,
                    token=code_token_make(campaign_id=campaign.pk, student_id=sid, version=1)) for sid in ids],
        batch_size=2000)
    tokens = list(CaptureCode.objects.filter(campaign=campaign).order_by("student_id").values_list("token", flat=True))
    user = User.objects.create_user(username=f"bench-op-{os.getpid()}", password=secrets.token_urlsafe(16))
    Membership.objects.create(user=user, institution=inst, role="operator")
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    from tucai.capture.services.desk import desk_token_issue

    desk_tokens = {r: desk_token_issue(user=user, campaign=campaign, room=Room.objects.get(pk=r), date=day,
                                       desk=f"bench-{i}")[1] for i, r in enumerate(room_ids)}
    from django.db import connections

    connections.close_all()
    return {"campaign": campaign.pk, "rooms": room_ids, "tokens": tokens, "session": session.session_key,
            "desk_tokens": desk_tokens}


def verify(campaign_id: int, expected_students: set[int] | None = None) -> dict:
    from tucai.capture.models import CheckinScan, Ticket

    tickets = list(Ticket.objects.filter(campaign_id=campaign_id).values_list("room_id", "number", "student_id"))
    per_room: dict[int, list[int]] = {}
    for room_id, number, _ in tickets:
        per_room.setdefault(room_id, []).append(number)
    gaps_or_dups = {r: n for r, n in per_room.items() if sorted(n) != list(range(1, len(n) + 1))}
    return {
        "tickets": len(tickets), "students_with_ticket": len({s for *_, s in tickets}),
        "scans": CheckinScan.objects.filter(campaign_id=campaign_id).count(),
        "rooms_with_gaps_or_duplicates": len(gaps_or_dups),
    }


# --- the load --------------------------------------------------------------------------------

def plan(tokens: list[str], rooms: list[int], repeat: float, retry: float, max_requests: int, seed: int) -> list:
    """Each student once (at the desk of one room), some scanned again (new nonce) and some
    submissions retried (same nonce), in a realistic interleaving."""
    rnd = random.Random(seed)
    jobs = []
    done: list[tuple] = []
    order = list(range(len(tokens)))
    rnd.shuffle(order)
    for i in order:
        job = (tokens[i], rooms[i % len(rooms)], f"n{i}-0")
        jobs.append(job)
        done.append(job)
        if rnd.random() < repeat:
            t, r, _ = rnd.choice(done)
            jobs.append((t, r, f"n{i}-r{len(jobs)}"))
        if rnd.random() < retry:
            jobs.append(rnd.choice(done))
    return jobs[:max_requests]


async def drive(host: str, port: int, jobs: list, clients: int, duration: float, session: str,
                campaign: int, keepalive: bool = True, desk_tokens: dict | None = None,
                rate: float | None = None, html: bool = True) -> dict:
    """``clients`` desks, each sending its next scan when the previous answer is in (one HTTP/1.1
    connection per desk, as a browser keeps it; ``keepalive=False`` opens one per request).

    ``rate``: open loop instead — scan k is due at start + k/rate and goes out from the first free
    desk; its latency counts from when it was due, so a server that falls behind is charged for
    the wait too (no "coordinated omission": a closed loop slows its own clients down and hides it)."""
    csrf = secrets.token_hex(16)  # a 32-character CSRF secret used as cookie and header
    queue: asyncio.Queue = asyncio.Queue()
    for j in jobs:
        queue.put_nowait(j)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    results: dict[str, int] = {}
    deadline = time.perf_counter() + duration

    async def one(conn, job, mine: list, due: float | None = None):
        token, room, nonce = job
        if desk_tokens:  # the desk page's way: campaign, room and day are inside the token
            body = json.dumps({"code": token, "nonce": nonce}).encode()
            auth = (f"POST /capture/api/desk/checkin/{'?html=1' if html else ''} HTTP/1.1\r\n"
                    f"Authorization: Desk {desk_tokens[room]}\r\n")
        else:
            body = json.dumps({"campaign": campaign, "room": room, "date": DAY, "code": token, "nonce": nonce,
                               "desk": "bench"}).encode()
            auth = (f"POST /capture/api/checkin/{'?html=1' if html else ''} HTTP/1.1\r\n"
                    f"Cookie: sessionid={session}; csrftoken={csrf}\r\n"
                    f"X-CSRFToken: {csrf}\r\n")
        head = (f"{auth}Host: {host}:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"Connection: {'keep-alive' if keepalive else 'close'}\r\n\r\n").encode()
        t0 = time.perf_counter() if due is None else due
        if conn is None:
            conn = await asyncio.open_connection(host, port)
            opened[0] += 1
        reader, writer = conn
        writer.write(head + body)
        await writer.drain()
        status_line = await reader.readline()
        length, close = 0, not keepalive
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        payload = await reader.readexactly(length) if length else await reader.read()
        latencies.append(time.perf_counter() - t0)
        mine.append(latencies[-1])
        timeline.append((t0, latencies[-1]))
        parts = status_line.split(b" ", 2)
        status = parts[1].decode() if len(parts) > 1 else "EOF"
        statuses[status] = statuses.get(status, 0) + 1
        try:
            result = json.loads(payload).get("result", "?")
        except ValueError:
            result = "unparsed"
        results[result] = results.get(result, 0) + 1
        if close:
            writer.close()
            return None
        return conn

    timeline: list[tuple[float, float]] = []  # (sent or due, latency): where in the run the slow ones fell
    opened = [0]  # TCP connections the desks opened (one each, unless the server closes them)
    per_desk: list[float] = []  # each desk's mean latency: unequal when server processes' shares are

    issued = [0]  # open loop: how many scans have been taken (the next one's index in the schedule)

    async def client() -> None:
        conn, mine = None, []
        while not queue.empty() and time.perf_counter() < deadline:
            job = queue.get_nowait()
            due = None
            if rate:
                due = t0 + issued[0] / rate
                issued[0] += 1
                if due > time.perf_counter():
                    await asyncio.sleep(due - time.perf_counter())
            try:
                conn = await one(conn, job, mine, due)
            except (OSError, asyncio.IncompleteReadError) as exc:
                statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
                conn = None
        if conn is not None:
            conn[1].close()
        if mine:
            per_desk.append(statistics.fmean(mine))

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - t0
    lat = sorted(latencies)
    return {
        "requests": len(lat), "wall_s": wall, "per_s": len(lat) / wall if wall else 0.0,
        "p50_ms": 1000 * lat[len(lat) // 2] if lat else None,
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
        "mean_ms": 1000 * statistics.fmean(lat) if lat else None,
        "statuses": statuses, "results": results,
        "desk_mean_ms": (1000 * min(per_desk), 1000 * max(per_desk)) if per_desk else None,
        "connections": opened[0],
        "late": sum(1 for x in latencies if x > 0.05),
        "slow_seconds": _slow_seconds(timeline, t0),
    }


def _slow_seconds(timeline: list[tuple[float, float]], t0: float) -> list[tuple[int, int, int, float]]:
    """Per second of the run with answers over 50 ms: (second, requests, over 50 ms, worst ms) —
    a stall (the tail bunched in one second) reads differently from a tail spread evenly."""
    per: dict[int, list[float]] = {}
    for sent, lat in timeline:
        per.setdefault(int(sent - t0), []).append(lat)
    return [(sec, len(v), sum(1 for x in v if x > 0.05), 1000 * max(v)) for sec, v in sorted(per.items())
            if any(x > 0.05 for x in v)]


# --- main ------------------------------------------------------------------------------------

def pg_admin(url: str, sql: str) -> None:
    import psycopg

    u = urlparse(url)
    with psycopg.connect(host=u.hostname, port=u.port or 5432, user=u.username or "postgres",
                         password=u.password, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="postgres://user@host:port/ (a throw-away database is created there)")
    ap.add_argument("--students", type=int, default=3000)
    ap.add_argument("--rooms", type=int, default=2)
    ap.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients (desks)")
    ap.add_argument("--workers", type=int, default=None,
                    help="server processes (default: tucai serve's, tucai/server.py; gunicorn and uWSGI: 2 per CPU; "
                         "wsgiref: 1 per CPU)")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads per server process (a kept-alive desk connection holds one)")
    ap.add_argument("--api", choices=["desk", "session"], default="desk",
                    help="desk: desk-token API (what the desk page uses); session: session cookie + CSRF API")
    ap.add_argument("--server", choices=["serve", "gunicorn", "uwsgi", "wsgiref"], default="serve",
                    help="HTTP server (default: `tucai serve`, granian, as in production; gunicorn (gthread) and "
                         "uWSGI (pyuwsgi) only when installed, for comparison)")
    ap.add_argument("--no-html", action="store_true",
                    help="ask for JSON only (the desk page also asks for the rendered result, ?html=1)")
    ap.add_argument("--sqlite-per-request", action="store_true",
                    help="SQLite: a new connection per request (TUCAI_DB_CONN_MAX_AGE=0), to compare with the "
                         "default of persistent connections")
    ap.add_argument("--rate", type=float, default=None,
                    help="open loop: offer this many check-ins per second (spread over --clients desks) and "
                         "count latency from when each was due; default: closed loop, each desk as fast as answered")
    ap.add_argument("--no-keepalive", action="store_true", help="a new connection for every request")
    ap.add_argument("--repeat", type=float, default=0.10, help="share of repeat scans (new nonce)")
    ap.add_argument("--retry", type=float, default=0.03, help="share of retried submissions (same nonce)")
    ap.add_argument("--max-requests", type=int, default=20000)
    ap.add_argument("--duration", type=float, default=60.0, help="stop after this many seconds")
    ap.add_argument("--warmup", type=int, default=200, help="requests before timing (not counted)")
    ap.add_argument("--target", help="an already running server on 127.0.0.1 (same --db)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data directory / database")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # internal: run one worker on this port
    args = ap.parse_args()

    if args.serve:
        serve(args.serve, args.threads or 16)
        return 0

    server = args.server
    tmp = Path(tempfile.mkdtemp(prefix="tucai-bench-checkin-"))
    env = dict(os.environ, TUCAI_DATA_DIR=str(tmp), DJANGO_SETTINGS_MODULE="tucai.settings", TUCAI_DEBUG="0",
               TUCAI_SSL_REDIRECT="0", TUCAI_LOG_LEVEL="ERROR", TUCAI_SECRET_KEY=secrets.token_urlsafe(40),
               PYTHONPATH=str(REPO / "src"))
    pg_db = None
    if not args.db:  # SQLite means SQLite, whatever the shell has set for the tests
        env.pop("TUCAI_DATABASE_URL", None)
        os.environ.pop("TUCAI_DATABASE_URL", None)
    env["TUCAI_DB_CONN_MAX_AGE"] = "0" if args.sqlite_per_request and not args.db else "600"
    if args.db:
        if not args.db.startswith("postgres"):
            ap.error("--db takes a postgres:// URL (SQLite is the default)")
        u = urlparse(args.db)
        pg_db = f"tucai_bench_{os.getpid()}"
        pg_admin(args.db, f'CREATE DATABASE "{pg_db}"')
        env["TUCAI_DATABASE_URL"] = u._replace(path="/" + pg_db).geturl()
    os.environ.update(env)
    sys.path.insert(0, str(REPO / "src"))

    procs: list[subprocess.Popen] = []
    try:
        t = time.perf_counter()
        data = setup_data(args.students + args.warmup, args.rooms)
        warm_tokens = data["tokens"][args.students:]  # warm-up students are not in the measured plan
        print(f"setup: {args.students} students, {args.rooms} rooms, codes issued in {time.perf_counter() - t:.1f} s "
              f"({'PostgreSQL ' + pg_db if pg_db else 'SQLite ' + str(tmp / 'tucai.sqlite3')})")
        if args.target:
            u = urlparse(args.target)
            if u.hostname not in ("127.0.0.1", "localhost"):
                ap.error("--target must be on 127.0.0.1")
            host, port = "127.0.0.1", u.port or 80
        else:
            host, port = "127.0.0.1", free_port()
            log = open(tmp / "server.log", "w")  # noqa: SIM115
            if server == "serve":
                from tucai.server import server_options

                opts = server_options(env, workers=args.workers, threads=args.threads)
                args.workers, args.threads = opts.workers, opts.threads
                server = "tucai serve (granian)"
                procs = [subprocess.Popen([str(Path(sys.executable).with_name("tucai")), "serve", "--bind",
                                           f"{host}:{port}", "--workers", str(opts.workers), "--threads",
                                           str(opts.threads), "--log-level", "warning"],
                                          env=env, stdout=log, stderr=subprocess.STDOUT)]
            elif server == "gunicorn":
                # What tucai served with before `tucai serve` (tucai/server.py): gthread, 2 processes per
                # CPU × 4 threads, kept-alive connections, the app loaded before the fork.
                args.workers, args.threads = args.workers or 2 * (os.cpu_count() or 1), args.threads or 4
                server = "gunicorn gthread"
                procs = [subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(args.workers),
                                           "--threads", str(args.threads), "--keep-alive", "60", "--preload",
                                           "--backlog", "2048", "tucai.wsgi:application", "-b", f"{host}:{port}",
                                           "--log-level", "warning"],
                                          env=env, stdout=log, stderr=subprocess.STDOUT)]
            elif server == "uwsgi":
                args.workers, args.threads = args.workers or 2 * (os.cpu_count() or 1), args.threads or 4
                server = "uWSGI (--http11-socket: HTTP/1.1 keep-alive in the workers)"
                procs = [subprocess.Popen([str(Path(sys.executable).with_name("uwsgi")), "--http11-socket",
                                           f"{host}:{port}", "--module", "tucai.wsgi:application", "--master",
                                           "--processes", str(args.workers), "--threads", str(args.threads),
                                           "--disable-logging", "--die-on-term", "--lazy-apps", "--listen", "1024"],
                                          env=env, stdout=log, stderr=subprocess.STDOUT)]
            else:
                args.workers, args.threads = args.workers or os.cpu_count() or 2, args.threads or 16
                procs = [subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--threads",
                                           str(args.threads)], env=env, stdout=log,
                                          stderr=subprocess.STDOUT) for _ in range(args.workers)]
            for _ in range(100):
                try:
                    socket.create_connection((host, port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise SystemExit("server did not start; see " + str(tmp / "server.log"))
        jobs = plan(data["tokens"][: args.students], data["rooms"], args.repeat, args.retry, args.max_requests,
                    seed=2024)
        # Warm-up (imports, connections, caches) with students of their own, not timed.
        warm = [(tok, data["rooms"][i % len(data["rooms"])], f"warm-{i}") for i, tok in enumerate(warm_tokens)]
        keepalive = not args.no_keepalive
        desk_tokens = data["desk_tokens"] if args.api == "desk" else None
        asyncio.run(drive(host, port, warm, args.clients, 30, data["session"], data["campaign"], keepalive,
                          desk_tokens, html=not args.no_html))
        server_pids = [p.pid for p in procs] + server_children([p.pid for p in procs])
        # The PostgreSQL server may be shared: count the backends serving this bench's database
        # apart from the rest (WAL writer, checkpointer, other users' sessions).
        own_pg = bench_backends(args.db, pg_db) if pg_db else []
        pg_pids = [p for p in postgres_pids() if p not in own_pg] if pg_db else []
        other_pg0 = {p: cpu_seconds([p]) for p in pg_pids}
        cpu0 = (cpu_seconds(server_pids), cpu_seconds(own_pg), time.process_time(), 0.0)
        load0 = os.getloadavg()
        stats = asyncio.run(drive(host, port, jobs, args.clients, args.duration, data["session"], data["campaign"],
                                  keepalive, desk_tokens, rate=args.rate, html=not args.no_html))
        load1 = os.getloadavg()
        # Backends a worker thread opened during the run (its first request after the warm-up)
        # count in full: they did nothing before it.
        new_pg = [p for p in (bench_backends(args.db, pg_db) if pg_db else []) if p not in own_pg]
        alive = set(postgres_pids())  # another user's session that ended took its CPU count with it
        cpu1 = (cpu_seconds(server_pids), cpu_seconds(own_pg) + cpu_seconds(new_pg), time.process_time(),
                sum(cpu_seconds([p]) - before for p, before in other_pg0.items() if p in alive))
        check = verify(data["campaign"])
        db = "PostgreSQL" if pg_db else ("SQLite, a connection per request" if args.sqlite_per_request
                                         else "SQLite, persistent connections")
        api = "desk token /capture/api/desk/checkin/" if desk_tokens else "session+CSRF /capture/api/checkin/"
        api += " (JSON only)" if args.no_html else " (?html=1: JSON + the rendered result, as the desk page asks)"
        print(f"server: {server}, {args.workers} processes × {args.threads} threads; API: {api}; "
              f"clients: {args.clients} (asyncio, "
              f"{'keep-alive' if keepalive else 'a connection per request'}"
              f"{f', open loop at {args.rate:g}/s offered' if args.rate else ', closed loop'}), "
              f"{os.cpu_count()} CPUs, db: {db}")
        print(f"requests: {stats['requests']} in {stats['wall_s']:.2f} s → {stats['per_s']:.0f} check-ins/s; "
              f"latency p50 {stats['p50_ms']:.1f} ms, p99 {stats['p99_ms']:.1f} ms, mean {stats['mean_ms']:.1f} ms, "
              f"over 50 ms: {stats['late']}")
        print(f"HTTP statuses: {stats['statuses']}; results: {stats['results']}")
        if stats["slow_seconds"]:
            print("seconds with answers over 50 ms (second: requests, over 50 ms, worst): " + "; ".join(
                f"{sec}: {n}, {late}, {worst:.0f} ms" for sec, n, late, worst in stats["slow_seconds"]))
        if stats["desk_mean_ms"]:
            print("mean latency per desk: from {:.1f} to {:.1f} ms; {} connections opened".format(
                *stats["desk_mean_ms"], stats["connections"]))
        n = max(1, stats["requests"])
        server_ms, pg_ms, client_ms, other_pg_ms = ((b - a) * 1000 / n for a, b in zip(cpu0, cpu1))
        print(f"machine load average (1/5/15 min) before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
              f"after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} on {os.cpu_count()} CPUs")
        if procs:
            # CPU cost per check-in does not depend on what else runs on the machine; the rate does.
            per = server_ms + pg_ms + client_ms
            db_note = (f"database backends {pg_ms:.2f} ms (+ other PostgreSQL processes {other_pg_ms:.2f} ms: "
                       f"WAL writer and whoever else uses that server) " if pg_db else "")
            print(f"CPU per check-in: server {server_ms:.2f} ms, {db_note}load client {client_ms:.2f} ms "
                  f"→ at most ≈ {1000 * (os.cpu_count() or 1) / per:.0f}/s on {os.cpu_count()} otherwise idle CPUs")
        print(f"database: {check['tickets']} tickets for {check['students_with_ticket']} students, "
              f"{check['scans']} scans recorded, rooms with gaps/duplicates: {check['rooms_with_gaps_or_duplicates']}")
        ok = check["rooms_with_gaps_or_duplicates"] == 0 and check["tickets"] == check["students_with_ticket"]
        print("integrity:", "OK" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        from django.db import connections

        connections.close_all()
        if pg_db and not args.keep:
            pg_admin(args.db, f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept:", tmp, pg_db or "")


if __name__ == "__main__":
    sys.exit(main())
