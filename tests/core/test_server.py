"""`tucai serve` (tucai/server.py): its size from the environment, and the real server answering.

The browser tests run on Django's live server; this is the one place the production server itself
(granian, forked workers, tucai.wsgi's two handlers) is started and spoken to over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tucai.server import ServerOptions, parse_bind, server_options


def test_processes_follow_the_database():
    assert server_options({}, cpus=4) == ServerOptions("127.0.0.1", 8000, 1, 4)  # embedded SQLite: one writer
    assert server_options({"TUCAI_DATABASE_URL": "sqlite:////tmp/x.sqlite3"}, cpus=4).workers == 1
    pg = {"TUCAI_DATABASE_URL": "postgres://u@h:5432/tucai"}
    assert server_options(pg, cpus=2).workers == 2
    assert server_options(pg, cpus=64).workers == 8  # each process holds database connections


def test_environment_and_options_override():
    env = {"TUCAI_DATABASE_URL": "postgres://u@h/tucai", "TUCAI_WORKERS": "3", "TUCAI_THREADS": "5",
           "TUCAI_BIND": "0.0.0.0:9000"}
    assert server_options(env, cpus=2) == ServerOptions("0.0.0.0", 9000, 3, 5)
    assert server_options(env, cpus=2, workers=1, threads=1, bind="[::1]:8080") == ServerOptions("::1", 8080, 1, 1)
    assert parse_bind(":8000") == ("0.0.0.0", 8000)


@pytest.mark.parametrize("env, kwargs, message", [
    ({"TUCAI_WORKERS": "two"}, {}, "TUCAI_WORKERS must be a whole number"),
    ({"TUCAI_THREADS": "0"}, {}, "TUCAI_THREADS must be at least 1"),
    ({}, {"workers": 0}, "workers must be at least 1"),
    ({"TUCAI_BIND": "localhost"}, {}, "bind address must be host:port"),
    ({}, {"bind": "127.0.0.1:99999"}, "bind address must be host:port"),
])
def test_bad_sizes_are_refused(env, kwargs, message):
    with pytest.raises(ValueError, match=message):
        server_options(env, **kwargs)


def test_serve_refuses_bad_options_with_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TUCAI_DATABASE_URL"}
    r = subprocess.run([sys.executable, "-m", "tucai", "serve", "--workers", "0"], capture_output=True, text=True,
                       env={**env, "TUCAI_DATA_DIR": str(tmp_path)}, timeout=60)
    assert r.returncode != 0 and "workers must be at least 1" in r.stderr


def test_the_server_environment_does_not_reach_request_meta(monkeypatch):
    """granian copies the process environment into every request's environ: a database URL with its
    password, or a stray HTTP_* variable posing as a header, must not reach request.META."""
    from tucai import wsgi

    monkeypatch.setattr(wsgi, "_PROCESS_ENV", {"TUCAI_DATABASE_URL": "postgres://u:pw@db/tucai",
                                               "HTTP_X_FORWARDED_PROTO": "https", "SERVER_NAME": "h"})
    environ = {"TUCAI_DATABASE_URL": "postgres://u:pw@db/tucai", "HTTP_X_FORWARDED_PROTO": "https",
               "SERVER_NAME": "h", "HTTP_ACCEPT": "*/*", "PATH_INFO": "/"}
    assert wsgi.without_process_env(environ) == {"SERVER_NAME": "h", "HTTP_ACCEPT": "*/*", "PATH_INFO": "/"}
    # A header the client really sent with another value is the client's.
    assert wsgi.without_process_env({"HTTP_X_FORWARDED_PROTO": "http"}) == {"HTTP_X_FORWARDED_PROTO": "http"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        # Header names are case-insensitive (granian sends them in lower case).
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.fixture
def served(tmp_path):
    """`tucai serve` on the embedded SQLite profile in a fresh data directory (migrated first)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TUCAI_DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(TUCAI_DATA_DIR=str(tmp_path), TUCAI_LOG_LEVEL="WARNING")
    subprocess.run([sys.executable, "-m", "tucai", "migrate", "--no-input", "-v", "0"], env=env, check=True,
                   timeout=120)
    port = _free_port()
    log = open(tmp_path / "serve.log", "w+")  # noqa: SIM115 — read back on failure
    proc = subprocess.Popen([sys.executable, "-m", "tucai", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                             "--threads", "2", "--log-level", "warning"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        else:
            pytest.fail("tucai serve did not open its port")
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        yield port, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        log.close()


def test_tucai_serve_answers_pages_static_files_and_the_desk_api(served):
    port, proc = served
    status, headers, body = _request(port, "GET", "/accounts/login/")
    assert status == 200 and b"csrfmiddlewaretoken" in body
    assert headers.get("x-frame-options") == "DENY" and headers.get("x-content-type-options") == "nosniff"

    status, headers, body = _request(port, "GET", "/static/tucai/tucai.css")
    assert status == 200 and headers["content-type"].startswith("text/css") and len(body) > 100

    # The desk-token API takes its own (lean) handler in tucai.wsgi; without a token it is refused
    # in JSON, kept-alive connections or not, and a foreign Host header is still a 400.
    status, headers, body = _request(port, "POST", "/capture/api/desk/checkin/?html=1", body=b'{"code": "x"}',
                                     headers={"Content-Type": "application/json"})
    assert status == 401 and json.loads(body)["code"] == "desk.token_missing"
    assert headers.get("x-content-type-options") == "nosniff"
    status, _, _ = _request(port, "POST", "/capture/api/desk/checkin/", body=b"{}",
                            headers={"Host": "evil.example", "Content-Type": "application/json"})
    assert status == 400

    # The session API needs a login: the anonymous POST is sent to the login page, not served.
    status, headers, _ = _request(port, "POST", "/capture/api/checkin/", body=b"{}")
    assert status in (302, 403)


def test_a_second_server_on_a_port_in_use_is_refused(served, tmp_path):
    port, proc = served
    env = {k: v for k, v in os.environ.items() if k not in ("TUCAI_DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    r = subprocess.run([sys.executable, "-m", "tucai", "serve", "--bind", f"127.0.0.1:{port}"], capture_output=True,
                       text=True, env={**env, "TUCAI_DATA_DIR": str(tmp_path)}, timeout=60)
    assert r.returncode != 0 and "already in use" in r.stderr
    assert proc.poll() is None  # the first one serves on
    assert _request(port, "GET", "/accounts/login/")[0] == 200


def test_tucai_serve_stops_on_sigterm(served, tmp_path):
    """SIGTERM to the main process (systemd's KillMode=mixed, as the README's unit) stops it and its workers."""
    port, proc = served
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("tucai serve did not stop on SIGTERM:\n" + (tmp_path / "serve.log").read_text()[-3000:])
    assert proc.returncode == 0
    for _ in range(50):  # and no worker is left behind in its process group
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("a worker of tucai serve outlived it")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
