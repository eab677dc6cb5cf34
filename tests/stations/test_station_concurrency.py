"""The same frame arriving at once from several places (two stations' watchers, an upload) gives one shot.

Runs on PostgreSQL (the unique constraint and row locks under real concurrency); SQLite's in-memory
test database uses shared-cache table locks that do not wait, so there it is skipped."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.storage import default_storage
from django.db import connection, connections

from tucai.stations.models import Shot


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_ingest_of_the_same_bytes_gives_one_shot(campaign, room, station, make_ticket, make_jpeg, engine):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency test needs PostgreSQL (set TUCAI_DATABASE_URL=postgres://...)")
    from tucai.stations.services import shot_ingest, station_get_or_create

    other = station_get_or_create(campaign=campaign, room=room, name="2")
    make_ticket(state="called")
    frames = [make_jpeg(i) for i in range(4)]
    jobs = [(st, frames[i % 4]) for i in range(32) for st in (station, other)]
    barrier = threading.Barrier(16)

    def run(job):
        st, data = job
        try:
            try:
                barrier.wait(timeout=5)
            except threading.BrokenBarrierError:
                pass
            return shot_ingest(station=st, data=data, filename="x.jpg").pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(run, jobs))
    assert Shot.objects.count() == 4
    assert set(ids) == set(Shot.objects.values_list("pk", flat=True))
    # No stray copies: one stored original per frame.
    day_dir = Shot.objects.first().original.name.rsplit("/", 1)[0]
    assert len(default_storage.listdir(day_dir)[1]) == 4
