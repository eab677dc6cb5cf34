"""The hot-folder watcher: takes each finished camera file into its station exactly once.

Polling, no inotify: tethering tools write in many ways (in place, temp-then-rename, over SMB) and a
stat every 0.2 s of one folder costs nothing. A file is taken when

* its name is not a temp name (``.x``, ``~x``, ``x.tmp``, ``x.part`` ...) and has an image extension,
* its size and mtime were the same on two polls in a row (the writer has stopped), and
* it can be opened and read.

"Exactly once" rests on the content hash in the database, not on anything in memory or in the
folder: after a kill at any point a restart scans the folder again and :func:`shot_ingest` returns
the existing shot for every file already taken. The camera's files are never moved, renamed or
deleted."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections, connection

from tucai.core.errors import TucaiError
from tucai.stations.models import Shot, Station
from tucai.stations.services import IMAGE_EXTENSIONS, shot_ingest, shot_recheck_pending

DB_RETRY_SECONDS = 2.0
log = logging.getLogger(__name__)

# A stable JPEG that does not end with its end-of-image marker is taken only after this long
# (a writer that stalls for a moment must not hand us half a photo; a truly truncated file still comes in).
INCOMPLETE_GRACE_S = 5.0

TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", "~")


def jpeg_complete(data: bytes) -> bool:
    """A JPEG ends with the EOI marker FFD9 (some cameras pad a few bytes after it)."""
    if not data.startswith(b"\xff\xd8"):
        return True  # not a JPEG: nothing to say
    return b"\xff\xd9" in data[-512:].rstrip(b"\x00")[-64:]


def is_candidate(name: str) -> bool:
    """Whether a file name looks like a finished camera image (not a temp file being written)."""
    if not name or name[0] in ".~" or name.startswith("$"):
        return False
    low = name.lower()
    if low.endswith(TEMP_SUFFIXES):
        return False
    return Path(low).suffix.lstrip(".") in IMAGE_EXTENSIONS


@dataclass
class PollResult:
    taken: list[Shot] = field(default_factory=list)      # new shots created by this poll
    known: list[Shot] = field(default_factory=list)      # files whose bytes were already taken
    pending: int = 0                                      # files seen but not yet stable
    errors: list[str] = field(default_factory=list)


class HotFolderWatcher:
    def __init__(self, *, station: Station, directory: str | Path, actor_label: str = "", interval: float = 0.2,
                 recursive: bool = False):
        self.station = station
        self.directory = Path(directory)
        self.recursive = recursive  # some tethering tools file frames into dated sub-folders
        self._media_root = Path(getattr(settings, "MEDIA_ROOT", "") or "/nonexistent").resolve()
        self.interval = interval
        self.actor_label = actor_label or f"watcher:{station.pk}"
        self._last: dict[str, tuple[int, int]] = {}    # path -> (size, mtime_ns) at the previous poll
        self._stable_since: dict[str, float] = {}       # path -> when an incomplete JPEG stopped changing
        self._done: dict[str, tuple[int, int]] = {}    # path -> (size, mtime_ns) already handled this run
        # Files recorded in the DB with the same (path, size, mtime) are skipped without re-reading them
        # (a restart after a big day would otherwise hash every file again). Anything else is hashed.
        self._recorded = {
            (p, s, m) for p, s, m in Shot.objects.filter(station=station).exclude(source_path="")
            .values_list("source_path", "size", "source_mtime_ns")
        }

    def _entries(self) -> list[os.DirEntry]:
        """Files to look at, in a stable order; sub-folders too when ``recursive`` (not hidden/temp ones)."""
        out: list[os.DirEntry] = []
        stack = [self.directory]
        while stack:
            folder = stack.pop()
            try:
                listing = list(os.scandir(folder))
            except FileNotFoundError:
                if folder == self.directory:
                    raise
                continue  # a sub-folder removed meanwhile
            for e in listing:
                if self.recursive and e.name[:1] not in ".~$" and e.is_dir(follow_symlinks=False):
                    if Path(e.path).resolve() != self._media_root:  # never take our own stored copies
                        stack.append(Path(e.path))
                else:
                    out.append(e)
        return sorted(out, key=lambda e: e.path)

    def poll(self) -> PollResult:
        result = PollResult()
        try:
            entries = self._entries()
        except FileNotFoundError:
            result.errors.append(f"folder not found: {self.directory}")
            return result
        seen_now: dict[str, tuple[int, int]] = {}
        for entry in entries:
            if not is_candidate(entry.name):
                continue
            key = entry.path
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # renamed away between the listing and the stat
            sig = (st.st_size, st.st_mtime_ns)
            seen_now[key] = sig
            if self._done.get(key) == sig:
                continue
            if (entry.path, st.st_size, st.st_mtime_ns) in self._recorded:
                self._done[key] = sig
                continue
            if st.st_size == 0 or self._last.get(key) != sig:
                result.pending += 1  # new or still growing: look again next poll
                self._stable_since.pop(key, None)
                continue
            try:
                with open(entry.path, "rb") as fh:  # some tools hold the file locked until done
                    data = fh.read()
            except OSError as exc:
                result.pending += 1
                log.info("not readable yet: %s (%s)", entry.name, exc)
                continue
            if len(data) != st.st_size:
                result.pending += 1
                continue
            if not jpeg_complete(data):
                since = self._stable_since.setdefault(key, time.monotonic())
                if time.monotonic() - since < INCOMPLETE_GRACE_S:
                    result.pending += 1
                    continue
                log.warning("taking %s although its JPEG end marker is missing", entry.name)
            self._stable_since.pop(key, None)
            try:
                shot = shot_ingest(station=self.station, data=data, filename=entry.name,
                                   actor_label=self.actor_label, source_path=entry.path,
                                   source_mtime_ns=st.st_mtime_ns)
            except TucaiError as exc:
                result.errors.append(f"{entry.name}: {exc.code}")
                log.warning("refused %s: %s", entry.name, exc)
                self._done[key] = sig  # a bad file stays refused until it changes
                continue
            (result.taken if shot.was_created else result.known).append(shot)
            self._done[key] = sig
        self._last = seen_now
        return result

    def run(self, *, once: bool = False, max_seconds: float | None = None, on_poll=None) -> int:
        """Poll until stopped. ``once``: stop as soon as the folder holds nothing new or unstable.
        Returns how many new shots were taken."""
        shot_recheck_pending(station=self.station)
        taken = 0
        started = time.monotonic()
        while True:
            try:
                res = self.poll()
            except (DatabaseError, InterfaceError) as exc:
                # "database is locked", a PostgreSQL restart: the camera keeps shooting, so keep watching.
                # Nothing was marked done for the file that failed; the next poll takes it again.
                log.warning("database error, retrying in %.1f s: %s", DB_RETRY_SECONDS, exc)
                close_old_connections()
                connection.close()
                time.sleep(DB_RETRY_SECONDS)
                continue
            taken += len(res.taken)
            if on_poll is not None:
                on_poll(res)
            if once and res.pending == 0:
                # One more poll confirms nothing appeared meanwhile.
                time.sleep(self.interval)
                res = self.poll()
                taken += len(res.taken)
                if on_poll is not None:
                    on_poll(res)
                if res.pending == 0:
                    return taken
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                return taken
            time.sleep(self.interval)
