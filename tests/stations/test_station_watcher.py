"""The hot-folder watcher: in-process poll rules, and the real CLI killed and restarted mid-way."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tucai.stations.models import Shot, ShotState
from tucai.stations.watcher import HotFolderWatcher, is_candidate, jpeg_complete

REPO = Path(__file__).resolve().parents[2]
TUCAI = str(REPO / ".venv" / "bin" / "tucai") if (REPO / ".venv" / "bin" / "tucai").exists() else "tucai"


@pytest.mark.parametrize("name,ok", [
    ("IMG_0001.JPG", True), ("DSC_1.jpeg", True), ("a.png", True), ("a.tif", True),
    ("IMG_0001.JPG.tmp", False), (".IMG_0001.JPG", False), ("~IMG_0001.JPG", False), ("IMG_0001.part", False),
    ("IMG_0001.jpg~", False), ("IMG_0001.CR2", False), ("notes.txt", False), ("", False),
])
def test_candidate_names(name, ok):
    assert is_candidate(name) is ok


def test_jpeg_complete(make_jpeg):
    data = make_jpeg(1)
    assert jpeg_complete(data)
    assert jpeg_complete(data + b"\x00" * 20)
    assert not jpeg_complete(data[: len(data) // 2])


@pytest.mark.django_db
def test_poll_takes_a_file_only_when_stable_and_each_content_once(station, make_ticket, make_jpeg, engine, tmp_path):
    ticket = make_ticket(state="called")
    folder = tmp_path / "hot"
    folder.mkdir()
    w = HotFolderWatcher(station=station, directory=folder, interval=0)
    data = make_jpeg(1)

    # Half a file: seen, not taken, however often we look while it grows.
    f = folder / "IMG_0001.JPG"
    f.write_bytes(data[:1000])
    assert w.poll().pending == 1
    with f.open("ab") as fh:
        fh.write(data[1000:2000])
    assert w.poll().pending == 1 and Shot.objects.count() == 0
    with f.open("ab") as fh:
        fh.write(data[2000:])
    assert w.poll().pending == 1  # changed since the last look
    res = w.poll()  # unchanged across two polls: taken
    assert [s.ticket_id for s in res.taken] == [ticket.pk]

    # Temp names are ignored until renamed into place.
    tmp = folder / "IMG_0002.JPG.tmp"
    tmp.write_bytes(make_jpeg(2))
    dot = folder / ".IMG_0003.JPG"
    dot.write_bytes(make_jpeg(3))
    w.poll()
    assert w.poll().taken == [] and Shot.objects.count() == 1
    tmp.rename(folder / "IMG_0002.JPG")
    dot.rename(folder / "IMG_0003.JPG")
    w.poll()
    assert len(w.poll().taken) == 2

    # The same bytes under another name: known, no second row.
    shutil.copy(f, folder / "IMG_0001 copy.JPG")
    w.poll()
    res = w.poll()
    assert res.taken == [] and [s.sha256 for s in res.known] == [hashlib.sha256(data).hexdigest()]
    assert Shot.objects.count() == 3
    # Nothing in the camera's folder was moved or deleted.
    assert sorted(p.name for p in folder.iterdir()) == [
        "IMG_0001 copy.JPG", "IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG"]
    # A later poll does not read the files again.
    assert w.poll().taken == [] and len(engine.calls) == 3


@pytest.mark.django_db
def test_truncated_jpeg_waits_for_its_end_marker(station, make_ticket, make_jpeg, engine, tmp_path, monkeypatch):
    make_ticket(state="called")
    w = HotFolderWatcher(station=station, directory=tmp_path, interval=0)
    data = make_jpeg(4)
    (tmp_path / "a.jpg").write_bytes(data[:-200])  # a writer that stalled
    for _ in range(3):
        assert w.poll().taken == []
    monkeypatch.setattr("tucai.stations.watcher.INCOMPLETE_GRACE_S", 0.0)
    assert len(w.poll().taken) == 1  # a really truncated file is not lost either


@pytest.mark.django_db
def test_restart_skips_files_already_taken_without_new_rows(station, make_ticket, make_jpeg, engine, tmp_path):
    make_ticket(state="called")
    for i in range(3):
        (tmp_path / f"{i}.jpg").write_bytes(make_jpeg(i))
    assert HotFolderWatcher(station=station, directory=tmp_path, interval=0).run(once=True) == 3
    assert HotFolderWatcher(station=station, directory=tmp_path, interval=0).run(once=True) == 0
    assert Shot.objects.count() == 3 and len(engine.calls) == 3


@pytest.mark.django_db
def test_unmatched_frames_when_no_one_is_at_the_camera(station, make_jpeg, engine, tmp_path):
    (tmp_path / "a.jpg").write_bytes(make_jpeg(5))
    HotFolderWatcher(station=station, directory=tmp_path, interval=0).run(once=True)
    assert list(Shot.objects.values_list("state", flat=True)) == [ShotState.UNMATCHED]


# --- the real command, killed with SIGKILL and restarted --------------------------------------------

SETUP = """
import datetime as dt
from django.utils import timezone
from tucai.campaigns.models import Campaign, Department, Institution, Room, SchoolClass, Student
from tucai.capture.models import Ticket
inst = Institution.objects.create(code="wt", name="看门狗学院")
camp = Campaign.objects.create(institution=inst, code="watch-test", name="w", graduation_year=2024,
    capture_start=dt.date(2024, 1, 1), capture_end=dt.date(2024, 12, 31))
dep = Department.objects.create(institution=inst, name="学院")
cls = SchoolClass.objects.create(campaign=camp, department=dep, name="班1")
stu = Student.objects.create(campaign=camp, school_class=cls, student_no="1", name="张三",
    doc_number="11010519491231002X")
room = Room.objects.create(institution=inst, building="B", name="101")
t = Ticket.objects.create(campaign=camp, room=room, date=timezone.localdate(), number=1, queue_order=1, student=stu,
    state="called", called_at=timezone.now())
print(t.pk)
"""

DUMP = """
import json
from django.conf import settings
from tucai.stations.models import Shot
print(json.dumps({"media": str(settings.MEDIA_ROOT), "shots": list(Shot.objects.values(
    "sha256", "ticket_id", "state", "source_path", "original", "verdict"))}))
"""


@pytest.fixture
def child_env(tmp_path):
    """Environment for `tucai` subprocesses with a database of their own: a SQLite file under a temp
    data dir, or (when the suite runs on PostgreSQL) a fresh PostgreSQL database dropped afterwards."""
    env = {**os.environ, "TUCAI_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1",
           "TUCAI_TASKS": "immediate", "DJANGO_SETTINGS_MODULE": "tucai.settings"}
    env.pop("TUCAI_MEDIA_ROOT", None)
    url = os.environ.get("TUCAI_DATABASE_URL", "")
    dbname = None
    if url.startswith("postgres"):
        import psycopg

        base = url.rsplit("/", 1)[0]
        dbname = f"tucai_watch_{os.getpid()}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            c.execute(f'CREATE DATABASE "{dbname}"')
        env["TUCAI_DATABASE_URL"] = f"{base}/{dbname}"
    subprocess.run([TUCAI, "migrate", "-v0"], env=env, check=True, capture_output=True, timeout=300)
    yield env
    if dbname:
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _shell(env, code: str) -> str:
    out = subprocess.run([TUCAI, "shell", "-c", code], env=env, check=True, capture_output=True, text=True,
                         timeout=120)
    return out.stdout.strip().splitlines()[-1]


def _writer(folder: Path, contents: list[bytes], log: list[str]) -> None:
    """Write like tethering tools do: slowly in place, slowly under a temp name then rename, and
    copies of earlier frames under new names."""
    rng = random.Random(7)
    for i, data in enumerate(contents):
        mode = ("slow", "tmp-rename", "dot-rename", "dup")[i % 4]
        final = folder / f"IMG_{i:04d}.JPG"
        if mode == "dup" and i > 0:
            data = contents[i - 1 - (i % 3)]
            final.write_bytes(data)
            log.append(f"dup {final.name}")
            continue
        target = {"slow": final, "tmp-rename": folder / f"{final.name}.tmp",
                  "dot-rename": folder / f".{final.name}"}.get(mode, final)
        with target.open("wb") as fh:
            for k in range(0, len(data), 4096):
                fh.write(data[k:k + 4096])
                fh.flush()
                time.sleep(rng.uniform(0.05, 0.12))
        if target != final:
            target.rename(final)
        log.append(f"{mode} {final.name}")


def _wait_for_lines(path: Path, prefix: str, n: int, timeout: float) -> int:
    end = time.monotonic() + timeout
    count = 0
    while time.monotonic() < end:
        if path.exists():
            count = sum(1 for line in path.read_text(errors="replace").splitlines() if line.startswith(prefix))
            if count >= n:
                return count
        time.sleep(0.05)
    return count


def test_watcher_killed_and_restarted_binds_every_file_exactly_once(child_env, tmp_path, make_jpeg):
    ticket_id = int(_shell(child_env, SETUP))
    folder = tmp_path / "hot"
    folder.mkdir()
    contents = [make_jpeg(100 + i, size=(900, 1200)) for i in range(16)]
    log: list[str] = []
    writer = threading.Thread(target=_writer, args=(folder, contents, log), daemon=True)
    cmd = [TUCAI, "station", "watch", str(folder), "--room", "101", "--campaign", "watch-test",
           "--interval", "0.1"]

    writer.start()
    kills = 0
    rng = random.Random(11)
    for round_ in range(4):
        out = tmp_path / f"watch-{round_}.log"
        with out.open("wb") as fh:
            proc = subprocess.Popen(cmd, env=child_env, stdout=fh, stderr=subprocess.STDOUT)
        # Wait until this run has taken something, then kill it a random moment later: mid-way
        # through reading, storing, committing or checking the next file.
        taken = _wait_for_lines(out, "+ ", 1, 120 if writer.is_alive() else 5)
        if round_ == 0:
            assert taken >= 1, out.read_text()
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
    writer.join(timeout=120)
    assert not writer.is_alive()
    final = subprocess.run(cmd + ["--once"], env=child_env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stdout + final.stderr

    dump = json.loads(_shell(child_env, DUMP))
    shots = dump["shots"]
    distinct = {hashlib.sha256(c).hexdigest() for c in contents}
    on_disk = {p.name: p.read_bytes() for p in folder.iterdir()}
    # Every file the writer produced is still there, untouched, and no temp name is left.
    assert sorted(on_disk) == [f"IMG_{i:04d}.JPG" for i in range(len(contents))]
    folder_hashes = {hashlib.sha256(b).hexdigest() for b in on_disk.values()}
    # Exactly one shot per distinct content: none lost, none twice.
    assert sorted(s["sha256"] for s in shots) == sorted(folder_hashes)
    assert folder_hashes <= distinct
    assert all(s["ticket_id"] == ticket_id for s in shots)
    assert all(s["verdict"] for s in shots), "a check interrupted by a kill must be rerun at restart"
    # Originals are byte-identical copies under their hash names.
    for s in shots:
        stored = Path(dump["media"]) / s["original"]
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == s["sha256"]
        assert stored.name.startswith(s["sha256"])
    assert kills == 4


@pytest.mark.django_db
def test_recursive_takes_dated_subfolders_but_not_hidden_ones(station, make_ticket, make_jpeg, engine, tmp_path,
                                                              settings):
    make_ticket(state="called")
    (tmp_path / "2024-03-03").mkdir()
    (tmp_path / ".cache").mkdir()
    (tmp_path / "top.jpg").write_bytes(make_jpeg(1))
    (tmp_path / "2024-03-03" / "IMG_1.JPG").write_bytes(make_jpeg(2))
    (tmp_path / ".cache" / "thumb.jpg").write_bytes(make_jpeg(3))
    # The station fixture keeps media under tmp_path/media, i.e. inside the watched tree here: our
    # own stored originals and previews must never be taken as new frames.
    assert settings.MEDIA_ROOT == tmp_path / "media"
    assert HotFolderWatcher(station=station, directory=tmp_path, interval=0).run(once=True) == 1
    assert HotFolderWatcher(station=station, directory=tmp_path, interval=0, recursive=True).run(once=True) == 1
    assert sorted(Shot.objects.values_list("filename", flat=True)) == ["IMG_1.JPG", "top.jpg"]


@pytest.mark.django_db
def test_run_survives_a_database_error_and_takes_the_file_on_the_next_poll(station, make_ticket, make_jpeg, engine,
                                                                           tmp_path, monkeypatch):
    from django.db import OperationalError

    import tucai.stations.watcher as watcher_mod

    make_ticket(state="called")
    folder = tmp_path / "hot"
    folder.mkdir()
    (folder / "IMG_0001.JPG").write_bytes(make_jpeg(3))
    real_ingest = watcher_mod.shot_ingest
    calls = {"n": 0}

    def flaky_ingest(**kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("database is locked")
        return real_ingest(**kw)

    monkeypatch.setattr(watcher_mod, "shot_ingest", flaky_ingest)
    monkeypatch.setattr(watcher_mod, "DB_RETRY_SECONDS", 0)
    monkeypatch.setattr(watcher_mod.connection, "close", lambda: None)   # keep the test's transaction
    w = HotFolderWatcher(station=station, directory=folder, interval=0)
    taken = w.run(once=True, max_seconds=10)
    assert calls["n"] == 2 and taken == 1
    assert Shot.objects.count() == 1
