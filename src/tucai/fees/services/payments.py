"""Writes to the fee ledger: record a payment (class collection or individual), void one.

Both run in one transaction with their audit entries: the money and its trail commit or roll back
together."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from tucai.audit.services import AuditBatch, audit_record
from tucai.campaigns.models import Campaign, SchoolClass, Student, StudentStatus
from tucai.core.errors import TucaiError
from tucai.core.state import lock_for_transition
from tucai.fees.models import PAYMENT_TRANSITIONS, Payment, PaymentLine, PaymentMethod, PaymentState
from tucai.fees.selectors import student_paid_fen_map

# Longest lists quoted inside an error message; the full list is in ``details``.
_LIST_IN_MESSAGE = 20
VOID_REASON_MAX = 200


def _numbers(students: Iterable[Student]) -> str:
    nos = [s.student_no for s in students]
    more = f" …(+{len(nos) - _LIST_IN_MESSAGE})" if len(nos) > _LIST_IN_MESSAGE else ""
    return "、".join(nos[:_LIST_IN_MESSAGE]) + more


def _signature(*, school_class_id: int | None, method: str, payer_name: str, lines: dict[int, int]) -> tuple:
    """What makes two submissions "the same payment" for the idempotency of a repeated reference."""
    return (school_class_id, method, payer_name, tuple(sorted(lines.items())))


def _payment_signature(payment: Payment) -> tuple:
    lines = dict(payment.lines.values_list("student_id", "amount_fen"))
    return _signature(school_class_id=payment.school_class_id, method=payment.method, payer_name=payment.payer_name,
                      lines=lines)


def _replay_or_conflict(existing: Payment, signature: tuple) -> Payment:
    """A reference seen before: the same submission again (a double click, a retried request) gets the
    recorded payment back; anything else is a second use of one receipt number and is refused."""
    if existing.state == PaymentState.RECORDED and _payment_signature(existing) == signature:
        existing.created = False
        return existing
    voided = existing.state == PaymentState.VOIDED
    raise TucaiError(
        "fees.reference_conflict",
        f"收据号/交易号“{existing.reference}”已用于{'一笔已作废的' if voided else '另一笔'}缴费（#{existing.pk}）",
        f"Reference {existing.reference!r} is already used by {'a voided' if voided else 'another'} payment "
        f"(#{existing.pk})",
        details={"reference": existing.reference, "payment_id": existing.pk, "voided": voided},
    )


def payment_record(
    *,
    campaign: Campaign,
    students: Iterable[Student],
    method: str,
    amount_fen_each: int | None = None,
    school_class: SchoolClass | None = None,
    payer_name: str = "",
    reference: str = "",
    note: str = "",
    actor=None,
    actor_label: str = "",
    allow_extra: bool = False,
    received_at=None,
) -> Payment:
    """Record money received for ``students`` (one line each of ``amount_fen_each``, default the campaign
    fee), all or nothing. With ``school_class`` it is that class's collection and every student must be in
    it. A student already paid in full is refused (``fees.already_paid``) unless ``allow_extra``.

    A repeated non-blank ``reference`` with the same content returns the payment already recorded
    (``payment.created`` is False); with different content it is refused (``fees.reference_conflict``)."""
    reference = (reference or "").strip()
    payer_name = (payer_name or "").strip()
    if method not in PaymentMethod.values:
        raise TucaiError("fees.method_invalid", f"未知的缴费方式“{method}”", f"Unknown payment method {method!r}",
                         details={"method": method, "allowed": list(PaymentMethod.values)})
    amount = campaign.fee_per_student_fen if amount_fen_each is None else amount_fen_each
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise TucaiError("fees.amount_invalid", "每人金额必须大于 0（单位：分，整数）",
                         "The amount per student must be a positive whole number of fen",
                         details={"amount_fen_each": amount})
    ids = sorted({s.pk for s in students})
    if not ids:
        raise TucaiError("fees.no_students", "没有选择学生", "No students selected")
    if school_class is not None and school_class.campaign_id != campaign.pk:
        raise TucaiError("fees.class_not_in_campaign", f"班级“{school_class.name}”不属于本次采集活动",
                         f"Class {school_class.name!r} is not in this campaign")
    class_id = school_class.pk if school_class is not None else None
    signature = _signature(school_class_id=class_id, method=method, payer_name=payer_name,
                           lines=dict.fromkeys(ids, amount))
    try:
        with transaction.atomic():
            # Lock the students (in id order, so two collections never deadlock): a class collection and an
            # individual payment for the same student are serialised and cannot both see "unpaid".
            locked = list(Student.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
            if reference:
                existing = Payment.objects.filter(campaign=campaign, reference=reference).first()
                if existing is not None:
                    return _replay_or_conflict(existing, signature)
            _validate_students(campaign=campaign, ids=ids, locked=locked, school_class=school_class)
            paid = student_paid_fen_map(campaign=campaign, student_ids=ids)
            fee = campaign.fee_per_student_fen
            full = [s for s in locked if paid.get(s.pk, 0) >= fee]
            if full and not allow_extra:
                raise TucaiError(
                    "fees.already_paid", f"以下学生已缴清：{_numbers(full)}",
                    f"Already paid in full: {', '.join(s.student_no for s in full[:_LIST_IN_MESSAGE])}",
                    details={"student_nos": [s.student_no for s in full]})
            payment = Payment.objects.create(
                campaign=campaign, school_class=school_class, method=method, payer_name=payer_name,
                reference=reference, total_fen=amount * len(locked),
                received_by=actor if getattr(actor, "is_authenticated", False) else None,
                received_at=received_at or timezone.now(), note=note or "")
            PaymentLine.objects.bulk_create([PaymentLine(payment=payment, student=s, amount_fen=amount)
                                             for s in locked])
            audit_record(actor=actor, actor_label=actor_label, action="payment.record", obj=payment,
                         campaign_id=campaign.pk, institution_id=campaign.institution_id, note=note or "",
                         changes={"total_fen": [None, payment.total_fen], "students": [None, len(locked)],
                                  "method": [None, method], "reference": [None, reference],
                                  "school_class": [None, class_id], "payer_name": [None, payer_name]})
            batch = AuditBatch(actor=actor, actor_label=actor_label, institution_id=campaign.institution_id,
                               campaign_id=campaign.pk, note=f"payment #{payment.pk}")
            for s in locked:
                before = paid.get(s.pk, 0)
                batch.add("payment.line", "campaigns.student", s.pk, str(s),
                          {"paid_fen": [before, before + amount], "payment_id": [None, payment.pk],
                           "amount_fen": [None, amount]})
            batch.flush()
    except IntegrityError:
        # Two submissions with one new reference raced past the check; the unique constraint let one in.
        if reference:
            existing = Payment.objects.filter(campaign=campaign, reference=reference).first()
            if existing is not None:
                return _replay_or_conflict(existing, signature)
        raise
    payment.created = True
    return payment


def _validate_students(*, campaign: Campaign, ids: list[int], locked: list[Student],
                       school_class: SchoolClass | None) -> None:
    found = {s.pk for s in locked if s.campaign_id == campaign.pk}
    missing = [i for i in ids if i not in found]
    if missing:
        raise TucaiError("fees.student_not_in_campaign", "所选学生不属于本次采集活动",
                         "Some selected students are not in this campaign", details={"student_ids": missing})
    inactive = [s for s in locked if s.status != StudentStatus.ACTIVE]
    if inactive:
        raise TucaiError("fees.student_inactive", f"以下学生已移出名单：{_numbers(inactive)}",
                         f"Not on the roster any more: {', '.join(s.student_no for s in inactive)}",
                         details={"student_nos": [s.student_no for s in inactive]})
    if school_class is not None:
        other = [s for s in locked if s.school_class_id != school_class.pk]
        if other:
            raise TucaiError("fees.student_not_in_class", f"以下学生不在班级“{school_class.name}”：{_numbers(other)}",
                             f"Not in class {school_class.name}: {', '.join(s.student_no for s in other)}",
                             details={"student_nos": [s.student_no for s in other]})


def payment_void(*, payment: Payment, reason: str, actor=None, actor_label: str = "") -> Payment:
    """Void ``payment`` (the money was refunded, recorded against the wrong class, …). The reason is
    required; the lines stay in the ledger but no longer count as paid."""
    reason = (reason or "").strip()
    if not reason:
        raise TucaiError("fees.void_reason_required", "作废缴费记录必须填写原因", "A reason is required to void a payment")
    if len(reason) > VOID_REASON_MAX:
        raise TucaiError("fees.void_reason_too_long", f"作废原因最多 {VOID_REASON_MAX} 字",
                         f"The reason may be at most {VOID_REASON_MAX} characters")
    with transaction.atomic():
        locked = lock_for_transition(Payment, payment.pk, to=PaymentState.VOIDED, transitions=PAYMENT_TRANSITIONS,
                                     code="fees.illegal_transition", noun_zh=f"缴费记录 #{payment.pk} ",
                                     noun_en=f"Payment #{payment.pk}")
        campaign = Campaign.objects.only("pk", "institution_id").get(pk=locked.campaign_id)
        lines = list(locked.lines.select_related("student").order_by("student_id"))
        ids = [ln.student_id for ln in lines]
        # Same lock order as payment_record: the students whose paid total changes.
        list(Student.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
        paid = student_paid_fen_map(campaign=campaign, student_ids=ids)
        locked.state = PaymentState.VOIDED
        locked.voided_at = timezone.now()
        locked.voided_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.void_reason = reason
        locked.save(update_fields=["state", "voided_at", "voided_by", "void_reason"])
        audit_record(actor=actor, actor_label=actor_label, action="payment.void", obj=locked, note=reason,
                     campaign_id=campaign.pk, institution_id=campaign.institution_id,
                     changes={"state": [PaymentState.RECORDED, PaymentState.VOIDED]})
        batch = AuditBatch(actor=actor, actor_label=actor_label, institution_id=campaign.institution_id,
                           campaign_id=campaign.pk, note=f"payment #{locked.pk} voided: {reason}")
        for ln in lines:
            before = paid.get(ln.student_id, 0)
            batch.add("payment.line_void", "campaigns.student", ln.student_id, str(ln.student),
                      {"paid_fen": [before, before - ln.amount_fen], "payment_id": [locked.pk, None]})
        batch.flush()
    payment.refresh_from_db()
    return payment
