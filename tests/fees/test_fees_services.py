"""The fee ledger: amounts, idempotent references, conflicts, already-paid, void, audit, selectors."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tucai.audit.models import AuditEntry
from tucai.campaigns.models import SchoolClass
from tucai.core.errors import TucaiError
from tucai.fees import selectors
from tucai.fees.models import Payment, PaymentLine, PaymentState
from tucai.fees.money import fen_to_yuan, yuan_to_fen
from tucai.fees.services import payment_record, payment_void
from tests.conftest import make_user


@pytest.fixture
def other_class(campaign, department):
    return SchoolClass.objects.create(campaign=campaign, department=department, name="电商1212")


def test_yuan_fen_round_trip():
    assert yuan_to_fen("20") == 2000
    assert yuan_to_fen("12.5") == 1250
    assert yuan_to_fen("0.01") == 1
    assert yuan_to_fen("￥20.00元") == 2000
    for bad in ("-1", "1.005", "abc", "", "1e3"):
        with pytest.raises(TucaiError) as exc:
            yuan_to_fen(bad)
        assert exc.value.code == "fees.amount_invalid"
    assert fen_to_yuan(2000) == "20.00" and fen_to_yuan(1) == "0.01" and fen_to_yuan(None) == "0.00"


def test_class_collection_defaults_to_campaign_fee(campaign, school_class, make_student, office_user):
    a, b, c = make_student(), make_student(), make_student()
    p = payment_record(campaign=campaign, students=[a, b], method="cash", school_class=school_class,
                       payer_name="班长", actor=office_user)
    assert p.created and p.total_fen == 4000 and p.received_by == office_user
    assert sorted(PaymentLine.objects.filter(payment=p).values_list("amount_fen", flat=True)) == [2000, 2000]
    assert selectors.students_paid(campaign=campaign, student_ids=[a.pk, b.pk, c.pk]) == {
        a.pk: True, b.pk: True, c.pk: False}
    assert selectors.student_paid_status(student=a) and not selectors.student_paid_status(student=c)
    assert [s.pk for s in selectors.class_unpaid_students(campaign=campaign)] == [c.pk]


def test_partial_payments_add_up(campaign, make_student):
    s = make_student()
    payment_record(campaign=campaign, students=[s], method="wechat", amount_fen_each=1500)
    assert not selectors.student_paid_status(student=s)
    payment_record(campaign=campaign, students=[s], method="cash", amount_fen_each=500)
    assert selectors.student_paid_status(student=s)
    assert selectors.student_paid_fen(student=s) == 2000


def test_zero_fee_campaign_everyone_paid(campaign, make_student):
    s = make_student()
    campaign.fee_per_student_fen = 0
    campaign.save()
    s.campaign.refresh_from_db()
    assert selectors.student_paid_status(student=s)
    assert selectors.students_paid(campaign=campaign, student_ids=[s.pk]) == {s.pk: True}
    # Nobody owes anything: every payment, with the default amount (0) or an explicit one, even with
    # allow_extra, is refused with its own code (not "already paid", not "amount invalid").
    for kw in ({}, {"amount_fen_each": 2000}, {"amount_fen_each": 2000, "allow_extra": True}):
        with pytest.raises(TucaiError) as exc:
            payment_record(campaign=campaign, students=[s], method="cash", **kw)
        assert exc.value.code == "fees.no_fee"
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", [0, -100, 12.5, True])
def test_amount_must_be_positive_integer_fen(campaign, make_student, amount):
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[make_student()], method="cash", amount_fen_each=amount)
    assert exc.value.code == "fees.amount_invalid"
    assert not Payment.objects.exists()


def test_already_paid_is_refused_listing_student_numbers(campaign, make_student):
    a, b = make_student(), make_student()
    payment_record(campaign=campaign, students=[a], method="cash")
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[a, b], method="cash")
    assert exc.value.code == "fees.already_paid"
    assert exc.value.details["student_nos"] == [a.student_no]
    assert a.student_no in exc.value.message_zh
    assert not PaymentLine.objects.filter(student=b).exists()   # all or nothing
    extra = payment_record(campaign=campaign, students=[a, b], method="cash", allow_extra=True)
    assert extra.total_fen == 4000 and selectors.student_paid_fen(student=a) == 4000


def test_same_reference_same_content_is_idempotent(campaign, school_class, make_student):
    a, b = make_student(), make_student()
    first = payment_record(campaign=campaign, students=[a, b], method="wechat", reference=" WX123 ",
                           school_class=school_class)
    again = payment_record(campaign=campaign, students=[b, a], method="wechat", reference="WX123",
                           school_class=school_class)
    assert first.created and not again.created and again.pk == first.pk
    assert Payment.objects.count() == 1 and PaymentLine.objects.count() == 2
    assert AuditEntry.objects.filter(action="payment.record").count() == 1


def test_same_reference_different_content_conflicts(campaign, make_student):
    a, b = make_student(), make_student()
    p = payment_record(campaign=campaign, students=[a], method="wechat", reference="WX123")
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[b], method="wechat", reference="WX123")
    assert exc.value.code == "fees.reference_conflict"
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[a], method="alipay", reference="WX123")
    assert exc.value.code == "fees.reference_conflict"
    payment_void(payment=p, reason="记错金额")
    # After a void the real transaction number is entered again on the corrected payment (a new one, not
    # the voided payment handed back), and then it is taken again.
    again = payment_record(campaign=campaign, students=[a], method="wechat", reference="WX123")
    assert again.created and again.pk != p.pk and again.state == PaymentState.RECORDED
    assert payment_record(campaign=campaign, students=[a], method="wechat", reference="WX123").pk == again.pk
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[b], method="wechat", reference="WX123")
    assert exc.value.code == "fees.reference_conflict" and exc.value.details["payment_id"] == again.pk
    assert Payment.objects.filter(reference="WX123").count() == 2
    # blank references never collide
    payment_record(campaign=campaign, students=[b], method="cash", amount_fen_each=500)
    payment_record(campaign=campaign, students=[b], method="cash", amount_fen_each=500)
    assert Payment.objects.filter(reference="").count() == 2


def test_students_validated(campaign, school_class, other_class, make_student, institution):
    from tucai.campaigns.models import Campaign

    inside, outsider = make_student(), make_student(school_class=other_class)
    gone = make_student(status="inactive")
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[inside, outsider], method="cash", school_class=school_class)
    assert exc.value.code == "fees.student_not_in_class" and exc.value.details["student_nos"] == [outsider.student_no]
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[gone], method="cash")
    assert exc.value.code == "fees.student_inactive"
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[], method="cash")
    assert exc.value.code == "fees.no_students"
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[inside], method="bitcoin")
    assert exc.value.code == "fees.method_invalid"
    other = Campaign.objects.create(institution=institution, code="other", name="x", graduation_year=2025,
                                    capture_start=campaign.capture_start, capture_end=campaign.capture_end)
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=other, students=[inside], method="cash")
    assert exc.value.code == "fees.student_not_in_campaign"
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=other, students=[inside], method="cash", school_class=school_class)
    assert exc.value.code == "fees.class_not_in_campaign"
    assert not Payment.objects.exists() and not AuditEntry.objects.filter(action__startswith="payment").exists()


def test_audit_entries_per_student_line(campaign, make_student, office_user):
    a, b = make_student(), make_student()
    p = payment_record(campaign=campaign, students=[a, b], method="cash", actor=office_user, reference="R1")
    head = AuditEntry.objects.get(action="payment.record")
    assert head.entity_id == str(p.pk) and head.actor == office_user and head.changes["total_fen"] == [None, 4000]
    assert head.campaign_id == campaign.pk and head.institution_id == campaign.institution_id
    lines = AuditEntry.objects.filter(action="payment.line", entity_type="campaigns.student").order_by("entity_id")
    assert [e.entity_id for e in lines] == [str(a.pk), str(b.pk)]
    assert all(e.changes["paid_fen"] == [0, 2000] and e.changes["payment_id"] == [None, p.pk] for e in lines)
    assert all(e.actor_id == office_user.pk and e.campaign_id == campaign.pk for e in lines)


def test_void_requires_reason_stops_counting_and_is_audited(campaign, make_student, office_user):
    a = make_student()
    p = payment_record(campaign=campaign, students=[a], method="cash")
    with pytest.raises(TucaiError) as exc:
        payment_void(payment=p, reason="  ", actor=office_user)
    assert exc.value.code == "fees.void_reason_required"
    payment_void(payment=p, reason="记错班级", actor=office_user)
    p.refresh_from_db()
    assert p.state == PaymentState.VOIDED and p.voided_by == office_user and p.void_reason == "记错班级"
    assert p.voided_at is not None
    assert not selectors.student_paid_status(student=a)
    assert AuditEntry.objects.get(action="payment.void").note == "记错班级"
    line = AuditEntry.objects.get(action="payment.line_void")
    assert line.entity_id == str(a.pk) and line.changes["paid_fen"] == [2000, 0]
    with pytest.raises(TucaiError) as exc:  # voided is final
        payment_void(payment=p, reason="again", actor=office_user)
    assert exc.value.code == "fees.illegal_transition"
    # after the void the student can pay again without allow_extra
    assert payment_record(campaign=campaign, students=[a], method="cash").created


def test_class_fee_summary(campaign, school_class, other_class, make_student):
    a, b = make_student(), make_student()
    c = make_student(school_class=other_class)
    gone = make_student(status="inactive")
    payment_record(campaign=campaign, students=[a], method="cash", school_class=school_class)
    payment_record(campaign=campaign, students=[c], method="cash", amount_fen_each=1000)
    data = selectors.class_fee_summary(campaign=campaign)
    rows = {r["name"]: r for r in data["classes"]}
    assert rows["电商1211"] == {**rows["电商1211"], "students": 2, "paid": 1, "unpaid": 1, "expected_fen": 4000,
                               "received_fen": 2000}
    assert rows["电商1212"] == {**rows["电商1212"], "students": 1, "paid": 0, "unpaid": 1, "expected_fen": 2000,
                               "received_fen": 1000}
    assert data["total"] == {"students": 3, "paid": 1, "unpaid": 2, "expected_fen": 6000, "received_fen": 3000}
    only = selectors.class_fee_summary(campaign=campaign, class_ids=[other_class.pk])
    assert [r["name"] for r in only["classes"]] == ["电商1212"] and only["total"]["students"] == 1
    assert gone.pk not in {s.pk for s in selectors.class_unpaid_students(campaign=campaign)}
    assert b.pk in {s.pk for s in selectors.class_unpaid_students(campaign=campaign)}


def test_students_paid_is_one_query(campaign, make_student):
    students = [make_student() for _ in range(5)]
    payment_record(campaign=campaign, students=students[:3], method="cash")
    with CaptureQueriesContext(connection) as ctx:
        result = selectors.students_paid(campaign=campaign, student_ids=[s.pk for s in students])
    assert len(ctx.captured_queries) == 1
    assert [result[s.pk] for s in students] == [True, True, True, False, False]


def test_money_received_for_a_student_who_left_still_counts_as_received(campaign, make_student):
    s = make_student()
    payment_record(campaign=campaign, students=[s], method="cash")
    s.status = "inactive"
    s.save()
    data = selectors.class_fee_summary(campaign=campaign)
    assert data["total"]["students"] == 0 and data["total"]["received_fen"] == 2000


def test_received_by_only_for_signed_in_users(campaign, make_student, institution):
    user = make_user("cashier", institution=institution, role="office")
    p = payment_record(campaign=campaign, students=[make_student()], method="cash", actor=user)
    q = payment_record(campaign=campaign, students=[make_student()], method="cash", actor_label="cli")
    assert p.received_by == user and q.received_by is None
    assert AuditEntry.objects.filter(action="payment.record", actor_label="cli").count() == 1
