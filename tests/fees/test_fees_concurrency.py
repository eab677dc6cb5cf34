"""Parallel payments on PostgreSQL: row locks keep a student from being paid twice by racing desks, and
a reference submitted twice at once is recorded once.

SQLite's in-memory test database uses shared-cache table locks that do not wait, so there the test is
skipped (the file-based SQLite in production serialises writers with IMMEDIATE transactions)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tucai.core.errors import TucaiError
from tucai.fees.models import Payment, PaymentLine
from tucai.fees.services import payment_record


def _parallel(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            try:
                return call()
            except TucaiError as exc:
                return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_collections_pay_each_student_once(campaign, school_class, make_student):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency test needs PostgreSQL (set TUCAI_DATABASE_URL=postgres://...)")
    students = [make_student() for _ in range(6)]
    # 8 desks at once: overlapping class collections (students 0-3, 2-5) and individual payments.
    groups = [students[:4], students[2:], [students[0]], [students[5]], students[:4], students[2:], [students[3]],
              students]
    results = _parallel([lambda g=g: payment_record(campaign=campaign, students=g, method="cash") for g in groups])
    recorded = [r for r in results if isinstance(r, Payment)]
    assert all(r == "fees.already_paid" for r in results if not isinstance(r, Payment))
    assert recorded
    per_student = {s.pk: PaymentLine.objects.filter(student=s).count() for s in students}
    assert all(n <= 1 for n in per_student.values()), per_student
    assert sum(per_student.values()) == sum(len(p.lines.all()) for p in recorded)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_reference_at_once_is_recorded_once(campaign, make_student):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency test needs PostgreSQL (set TUCAI_DATABASE_URL=postgres://...)")
    a, b = make_student(), make_student()
    # Different students, so the student locks do not serialise them: the unique reference must.
    same = [lambda: payment_record(campaign=campaign, students=[a], method="wechat", reference="WX-9")] * 4
    other = [lambda: payment_record(campaign=campaign, students=[b], method="wechat", reference="WX-9")] * 4
    results = _parallel(same + other)
    assert Payment.objects.filter(reference="WX-9").count() == 1
    winner = Payment.objects.get(reference="WX-9")
    won_with_a = winner.lines.filter(student=a).exists()
    for r, student in zip(results, [a] * 4 + [b] * 4):
        if student == (a if won_with_a else b):
            assert isinstance(r, Payment) and r.pk == winner.pk   # the identical ones all get it back
        else:
            assert r == "fees.reference_conflict"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_form_token_at_once_is_recorded_once(campaign, school_class, make_student):
    """A double (or sextuple) click with no receipt number: the form token records it once."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrency test needs PostgreSQL (set TUCAI_DATABASE_URL=postgres://...)")
    a, b, c = make_student(), make_student(), make_student()
    clicks = [lambda: payment_record(campaign=campaign, students=[a, b], method="cash", school_class=school_class,
                                     amount_fen_each=1000, form_token="form-token-1")] * 6
    # the same token with other students (not serialised by the student locks): the unique token must refuse it
    odd = [lambda: payment_record(campaign=campaign, students=[c], method="cash", amount_fen_each=1000,
                                  form_token="form-token-1")]
    results = _parallel(clicks + odd)
    winner = Payment.objects.get(form_token="form-token-1")
    assert Payment.objects.count() == 1
    if winner.lines.filter(student=c).exists():
        assert all(r == "fees.form_reused" for r in results[:6]) and results[6].pk == winner.pk
    else:
        assert all(isinstance(r, Payment) and r.pk == winner.pk for r in results[:6])
        assert results[6] == "fees.form_reused"
    assert PaymentLine.objects.filter(student=a).count() <= 1
