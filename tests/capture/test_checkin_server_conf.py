"""gunicorn settings (tucai/gunicorn_conf.py): one process on SQLite (one writer at a time; writers
in other processes would sleep in SQLite's busy handler), two per CPU on PostgreSQL, and the
environment overrides them."""

from __future__ import annotations

import importlib
import os
import sys


def _conf(monkeypatch, **env):
    for name in ("TUCAI_DATABASE_URL", "TUCAI_WORKERS", "TUCAI_THREADS", "TUCAI_GIL_SWITCH_MS", "TUCAI_KEEPALIVE",
                 "TUCAI_WORKER_CONNECTIONS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop("tucai.gunicorn_conf", None)
    return importlib.import_module("tucai.gunicorn_conf")


def test_processes_follow_the_database(monkeypatch):
    assert (_conf(monkeypatch).workers, _conf(monkeypatch).worker_connections) == (1, 1000)
    assert _conf(monkeypatch, TUCAI_DATABASE_URL="sqlite:////tmp/x.sqlite3").workers == 1
    pg = _conf(monkeypatch, TUCAI_DATABASE_URL="postgres://u@h:5432/tucai")
    assert pg.workers == min(8, 2 * (os.cpu_count() or 1)) and pg.threads == 4 and pg.worker_class == "gthread"
    # gunicorn's default: a low limit let a dozen idle sockets shut every process out.
    assert (pg.worker_connections, pg.keepalive) == (1000, 60)


def test_environment_overrides_and_switch_interval(monkeypatch):
    conf = _conf(monkeypatch, TUCAI_DATABASE_URL="postgres://u@h/tucai", TUCAI_WORKERS="3", TUCAI_THREADS="2",
                 TUCAI_GIL_SWITCH_MS="2")
    assert (conf.workers, conf.threads, conf.worker_connections) == (3, 2, 1000)
    before = sys.getswitchinterval()
    try:
        conf.post_fork(None, None)
        assert abs(sys.getswitchinterval() - 0.002) < 1e-9
    finally:
        sys.setswitchinterval(before)
        sys.modules.pop("tucai.gunicorn_conf", None)
