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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_requeue_committed_while_a_checkin_waits_keeps_the_newcomer_behind(campaign, room, day, make_student):
    """The one-statement allocation waits for the room's counter lock; a requeue that commits meanwhile
    must still count (a subquery on MAX(queue_order) would read the snapshot from before the wait and
    give the newcomer the requeued ticket's place: a tie, and "people ahead" off by one)."""
    import time

    from django.db import connections, transaction

    from tucai.capture.models import TicketState
    from tucai.capture.selectors import ticket_position
    from tucai.capture.state import ticket_transition

    if connection.vendor != "postgresql":
        pytest.skip("concurrency test needs PostgreSQL (set TUCAI_DATABASE_URL=postgres://...)")
    students = [make_student() for _ in range(4)]
    first = [checkin_perform(campaign=campaign, room=room, date=day, student=s).ticket for s in students[:3]]
    ticket_transition(ticket=first[0], to=TicketState.CALLED)
    ticket_transition(ticket=first[0], to=TicketState.SKIPPED)
    locked = threading.Event()
    out = {}

    def requeue():
        try:
            with transaction.atomic():               # the counter lock is held until this commits
                ticket_transition(ticket=first[0], to=TicketState.WAITING)
                locked.set()
                time.sleep(1.0)                       # the check-in below starts and waits on the lock
        finally:
            locked.set()
            connections.close_all()

    def checkin():
        locked.wait()
        try:
            out["t"] = checkin_perform(campaign=campaign, room=room, date=day, student=students[3]).ticket
        finally:
            connections.close_all()

    threads = [threading.Thread(target=requeue), threading.Thread(target=checkin)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = list(Ticket.objects.filter(room=room, date=day).order_by("queue_order", "number")
                .values_list("number", "queue_order"))
    assert [n for n, _ in rows] == [2, 3, 1, 4] and len({q for _, q in rows}) == 4, rows
    assert ticket_position(ticket=Ticket.objects.get(pk=out["t"].pk)) == 3   # 2, 3 and the requeued 1 ahead
    assert TicketCounter.objects.get(room=room, date=day).last_queue_order == max(q for _, q in rows)
