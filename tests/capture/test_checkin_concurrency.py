"""64 parallel check-ins at several desks: one number per student, no duplicates, no gaps.

Runs on PostgreSQL (row locks are what is being tested). SQLite's in-memory test database uses
shared-cache table locks that do not wait, so there the test is skipped; the file-based SQLite used
in production serialises writers with IMMEDIATE transactions (bench/checkin_load.py drives that)."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tucai.campaigns.models import Room
from tucai.capture.models import CheckinScan, Ticket, TicketCounter
from tucai.capture.services import codes
from tucai.capture.services.checkin import checkin_perform


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_64_parallel_checkins_one_number_each_no_gaps(campaign, room, day, make_student, institution):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency test needs PostgreSQL (set TUCAI_DATABASE_URL=postgres://...)")
    room_b = Room.objects.create(institution=institution, building="实训楼", name="102")
    students = [make_student() for _ in range(40)]
    tokens = {s.pk: codes.capture_code_issue(student=s).token for s in students}

    # 40 first scans in room A, 16 repeat scans (new nonce) of which 6 at room B's desk at the same
    # moment, and 8 retried submissions that reuse a nonce.
    jobs = [(s.pk, room, f"first-{s.pk}") for s in students]
    rng = random.Random(4)
    for i, s in enumerate(rng.sample(students, 16)):
        jobs.append((s.pk, room_b if i < 6 else room, f"repeat-{s.pk}"))
    for s in rng.sample(students, 8):
        jobs.append((s.pk, room, f"first-{s.pk}"))
    assert len(jobs) == 64
    rng.shuffle(jobs)

    barrier = threading.Barrier(len(jobs))

    def run(job):
        student_id, r, nonce = job
        try:
            barrier.wait(timeout=30)
            out = checkin_perform(campaign=campaign, room=r, date=day, raw_code=tokens[student_id], nonce=nonce,
                                  desk=f"desk-{threading.get_ident() % 7}")
            return student_id, nonce, out.result, out.ticket.room_id, out.ticket.number
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(run, jobs))

    by_student = defaultdict(set)
    by_nonce = defaultdict(set)
    for student_id, nonce, result, room_id, number in results:
        assert result in ("issued", "repeat")
        by_student[student_id].add((room_id, number))
        by_nonce[nonce].add((room_id, number))
    # Every student got exactly one (room, number), whichever desk or retry answered.
    assert all(len(v) == 1 for v in by_student.values())
    assert all(len(v) == 1 for v in by_nonce.values())
    tickets = list(Ticket.objects.filter(campaign=campaign, date=day))
    assert len(tickets) == 40 and len({t.student_id for t in tickets}) == 40
    for r in (room, room_b):
        numbers = sorted(t.number for t in tickets if t.room_id == r.pk)
        assert numbers == list(range(1, len(numbers) + 1)), numbers  # no duplicates, no gaps
        counter = TicketCounter.objects.filter(room=r, date=day).first()
        assert (counter.last_number if counter else 0) == len(numbers)
    assert sum(1 for t in tickets if t.room_id == room.pk) >= 34
    # Every submission is recorded once per nonce (retries do not add rows).
    assert CheckinScan.objects.filter(campaign=campaign).count() == len(by_nonce)
