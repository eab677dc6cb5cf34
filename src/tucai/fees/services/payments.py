"""Writes to the fee ledger: record a payment (class collection or individual), void one.

Both run in one transaction with their audit entries: the money and its trail commit or roll back
together."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from tucai.audit.services import AuditBatch, audit_record
from tucai.campaigns.models import Campaign, SchoolClass, Student, StudentStatus
from tucai.core.errors import TucaiError
from tucai.core.state import lock_for_transition
from tucai.fees.models import PAYMENT_TRANSITIONS, Payment, PaymentLine, PaymentMethod, PaymentState
from tucai.fees.money import PAYMENT_TOTAL_MAX_FEN, check_amount_each, fen_to_yuan
from tucai.fees.selectors import student_paid_fen_map

# Longest lists quoted inside an error message; the full list is in ``details``.
_LIST_IN_MESSAGE = 20
VOID_REASON_MAX = 200
# The model's column widths: longer text is refused (not cut) before it reaches the database.
_REFERENCE_MAX = Payment._meta.get_field("reference").max_length
_PAYER_MAX = Payment._meta.get_field("payer_name").max_length
# A note is free text; 1000 characters is a long paragraph, enough for any remark on a payment.
NOTE_MAX = 1000
# Form tokens are made by the pages (secrets.token_urlsafe): URL-safe base64, at most the column's width.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}", re.ASCII)


def _numbers(students: Iterable[Student]) -> str:
    nos = [s.student_no for s in students]
    more = f" …(+{len(nos) - _LIST_IN_MESSAGE})" if len(nos) > _LIST_IN_MESSAGE else ""
    return "、".join(nos[:_LIST_IN_MESSAGE]) + more


def _same_submission(existing: Payment, *, class_id: int | None, method: str, payer_name: str, ids: list[int],
                     amount: int, up_to_owed: bool) -> bool:
    """Whether ``existing`` is what this submission would have recorded: same class, method, payer and students,
    each line the amount asked (or, charging what each owed, at most that amount)."""
    lines = dict(existing.lines.values_list("student_id", "amount_fen"))
    if (existing.school_class_id, existing.method, existing.payer_name, sorted(lines)) != (
            class_id, method, payer_name, ids):
        return False
    return all(a == amount or (up_to_owed and a < amount) for a in lines.values())


def _replay_or_conflict(existing: Payment, *, same: bool, by_token: bool) -> Payment:
    """A form token or reference seen before: the same submission again (a double click, a retried request) gets
    the recorded payment back; anything else is a second use of one form / receipt number and is refused."""
    if same:
        existing.created = False
        return existing
    if by_token:
        raise TucaiError(
            "fees.form_reused", f"此表单已提交过（缴费记录 #{existing.pk}），请刷新页面后再记录新的缴费",
            f"This form was already submitted (payment #{existing.pk}); reload the page to record a new payment",
            details={"payment_id": existing.pk})
    raise TucaiError(
        "fees.reference_conflict", f"收据号/交易号“{existing.reference}”已用于另一笔缴费（#{existing.pk}）",
        f"Reference {existing.reference!r} is already used by another payment (#{existing.pk})",
        details={"reference": existing.reference, "payment_id": existing.pk})


def _find_previous(*, campaign: Campaign, form_token: str, reference: str, **same_kw) -> Payment | None:
    """The payment this submission repeats (by form token, any state; by reference, among recorded payments:
    a voided payment's number may be used again), or None; refuses a conflicting reuse."""
    if form_token:
        existing = Payment.objects.filter(campaign=campaign, form_token=form_token).first()
        if existing is not None:
            return _replay_or_conflict(existing, same=_same_submission(existing, **same_kw), by_token=True)
    if reference:
        existing = Payment.objects.filter(campaign=campaign, reference=reference,
                                          state=PaymentState.RECORDED).first()
        if existing is not None:
            return _replay_or_conflict(existing, same=_same_submission(existing, **same_kw), by_token=False)
    return None


def _check_text(value: str, *, field: str, max_len: int, zh: str, en: str) -> None:
    # Refused rather than cut: a receipt number cut short no longer matches the paper receipt.
    if len(value) > max_len:
        raise TucaiError(f"fees.{field}_too_long", f"{zh}最多 {max_len} 个字符（现有 {len(value)} 个）",
                         f"The {en} may be at most {max_len} characters (got {len(value)})",
                         details={"field": field, "max_length": max_len, "length": len(value)})


def _students_error(code: str, zh: str, en: str, students: list[Student]) -> TucaiError:
    return TucaiError(code, f"{zh}：{_numbers(students)}",
                      f"{en}: {', '.join(s.student_no for s in students[:_LIST_IN_MESSAGE])}",
                      details={"student_nos": [s.student_no for s in students]})


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
    up_to_owed: bool = False,
    form_token: str = "",
    received_at=None,
) -> Payment:
    """Record money received for ``students`` (one line each of ``amount_fen_each``, default the campaign
    fee), all or nothing. With ``school_class`` it is that class's collection and every student must be in
    it.

    Without ``allow_extra`` no student ends up paying more than the fee: a student already paid in full is
    refused (``fees.already_paid``); with ``up_to_owed`` each line is what the student still owes, at most
    ``amount_fen_each`` (a class collection that includes a part-payer), otherwise a line that would take a
    student past the fee is refused (``fees.overpayment``). A campaign whose fee is 0 takes no payments
    (``fees.no_fee``).

    A repeated ``form_token`` (one per rendered form) or non-blank ``reference`` (among recorded payments) with
    the same content returns the payment already recorded (``payment.created`` is False); with different
    content it is refused (``fees.form_reused`` / ``fees.reference_conflict``)."""
    reference = (reference or "").strip()
    payer_name = (payer_name or "").strip()
    note = (note or "").strip()
    form_token = (form_token or "").strip()
    _check_text(reference, field="reference", max_len=_REFERENCE_MAX, zh="收据号/交易号", en="reference")
    _check_text(payer_name, field="payer_name", max_len=_PAYER_MAX, zh="交款人", en="payer name")
    _check_text(note, field="note", max_len=NOTE_MAX, zh="备注", en="note")
    if form_token and not _TOKEN.fullmatch(form_token):
        raise TucaiError("fees.form_token_invalid", "表单已失效，请刷新页面后重新提交",
                         "The form is no longer valid; reload the page and submit again")
    if method not in PaymentMethod.values:
        raise TucaiError("fees.method_invalid", f"未知的缴费方式“{method}”", f"Unknown payment method {method!r}",
                         details={"method": method, "allowed": list(PaymentMethod.values)})
    fee = campaign.fee_per_student_fen
    if fee == 0:
        # Nobody owes anything, so every payment would be an overpayment: most likely the wrong campaign,
        # or the fee not set yet. Refused with its own message instead of "already paid".
        raise TucaiError("fees.no_fee", "本活动不收取采集费（每人 0 元），不能记录缴费；如需收费请先设置收费标准",
                         "This campaign charges no fee (0 per student), so no payment can be recorded; "
                         "set the fee first if one is due")
    amount = fee if amount_fen_each is None else amount_fen_each
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise TucaiError("fees.amount_invalid", "每人金额必须大于 0（单位：分，整数）",
                         "The amount per student must be a positive whole number of fen",
                         details={"amount_fen_each": amount})
    check_amount_each(amount)
    ids = sorted({s.pk for s in students})
    if not ids:
        raise TucaiError("fees.no_students", "没有选择学生", "No students selected")
    if school_class is not None and school_class.campaign_id != campaign.pk:
        raise TucaiError("fees.class_not_in_campaign", f"班级“{school_class.name}”不属于本次采集活动",
                         f"Class {school_class.name!r} is not in this campaign")
    class_id = school_class.pk if school_class is not None else None
    same_kw = {"class_id": class_id, "method": method, "payer_name": payer_name, "ids": ids, "amount": amount,
               "up_to_owed": up_to_owed and not allow_extra}
    try:
        with transaction.atomic():
            # Lock the students (in id order, so two collections never deadlock): a class collection and an
            # individual payment for the same student are serialised and cannot both see "unpaid"; a double
            # click waits here for the first request and then finds its payment.
            locked = list(Student.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
            previous = _find_previous(campaign=campaign, form_token=form_token, reference=reference, **same_kw)
            if previous is not None:
                return previous
            _validate_students(campaign=campaign, ids=ids, locked=locked, school_class=school_class)
            paid = student_paid_fen_map(campaign=campaign, student_ids=ids)
            owed = {s.pk: max(0, fee - paid.get(s.pk, 0)) for s in locked}
            if allow_extra:
                lines = dict.fromkeys(owed, amount)
            else:
                full = [s for s in locked if owed[s.pk] == 0]
                if full:
                    raise _students_error("fees.already_paid", "以下学生已缴清", "Already paid in full", full)
                if up_to_owed:
                    lines = {sid: min(amount, o) for sid, o in owed.items()}
                else:
                    over = [s for s in locked if amount > owed[s.pk]]
                    if over:
                        raise TucaiError(
                            "fees.overpayment",
                            f"每人 {fen_to_yuan(amount)} 元会超过应缴金额 {fen_to_yuan(fee)} 元：{_numbers(over)}"
                            f"（尚欠 {'、'.join(fen_to_yuan(owed[s.pk]) for s in over[:_LIST_IN_MESSAGE])} 元）",
                            f"{fen_to_yuan(amount)} each would take these students past the fee of "
                            f"{fen_to_yuan(fee)}: {', '.join(s.student_no for s in over[:_LIST_IN_MESSAGE])}",
                            details={"student_nos": [s.student_no for s in over],
                                     "owed_fen": {s.student_no: owed[s.pk] for s in over}})
                    lines = dict.fromkeys(owed, amount)
            total = sum(lines.values())
            if total > PAYMENT_TOTAL_MAX_FEN:
                raise TucaiError(
                    "fees.amount_invalid", f"合计 {fen_to_yuan(total)} 元超过一笔缴费的上限 "
                    f"{fen_to_yuan(PAYMENT_TOTAL_MAX_FEN)} 元，请分笔记录",
                    f"The total {fen_to_yuan(total)} is over the ceiling of {fen_to_yuan(PAYMENT_TOTAL_MAX_FEN)} "
                    "for one payment; record it in parts", details={"total_fen": total})
            payment = Payment.objects.create(
                campaign=campaign, school_class=school_class, method=method, payer_name=payer_name,
                reference=reference, form_token=form_token, total_fen=total,
                received_by=actor if getattr(actor, "is_authenticated", False) else None,
                received_at=received_at or timezone.now(), note=note)
            PaymentLine.objects.bulk_create([PaymentLine(payment=payment, student=s, amount_fen=lines[s.pk])
                                             for s in locked])
            audit_record(actor=actor, actor_label=actor_label, action="payment.record", obj=payment,
                         campaign_id=campaign.pk, institution_id=campaign.institution_id, note=note,
                         changes={"total_fen": [None, payment.total_fen], "students": [None, len(locked)],
                                  "method": [None, method], "reference": [None, reference],
                                  "school_class": [None, class_id], "payer_name": [None, payer_name]})
            batch = AuditBatch(actor=actor, actor_label=actor_label, institution_id=campaign.institution_id,
                               campaign_id=campaign.pk, note=f"payment #{payment.pk}")
            for s in locked:
                before = paid.get(s.pk, 0)
                batch.add("payment.line", "campaigns.student", s.pk, str(s),
                          {"paid_fen": [before, before + lines[s.pk]], "payment_id": [None, payment.pk],
                           "amount_fen": [None, lines[s.pk]]})
            batch.flush()
    except IntegrityError:
        # Two submissions with one new token / reference raced past the check; the unique constraint let one in.
        previous = _find_previous(campaign=campaign, form_token=form_token, reference=reference, **same_kw)
        if previous is not None:
            return previous
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
                     # total_fen: what the payment counts towards "paid", all of it before, nothing after.
                     changes={"state": [PaymentState.RECORDED, PaymentState.VOIDED],
                              "total_fen": [locked.total_fen, 0]})
        batch = AuditBatch(actor=actor, actor_label=actor_label, institution_id=campaign.institution_id,
                           campaign_id=campaign.pk, note=f"payment #{locked.pk} voided: {reason}")
        for ln in lines:
            before = paid.get(ln.student_id, 0)
            batch.add("payment.line_void", "campaigns.student", ln.student_id, str(ln.student),
                      {"paid_fen": [before, before - ln.amount_fen], "payment_id": [locked.pk, None]})
        batch.flush()
    payment.refresh_from_db()
    return payment
