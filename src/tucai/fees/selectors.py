"""Reads of the fee ledger: who has paid, per-class sums, the unpaid list, the payments list.

"Paid" means: the sum of the student's lines in payments that are not voided reaches the campaign fee
(a campaign with fee 0 charges nothing, so everyone counts as paid)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import (BooleanField, Count, Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q, QuerySet,
                              Subquery, Sum, Value)
from django.utils import timezone
from django.utils.translation import gettext_noop
from django.db.models.functions import Coalesce

from tucai.campaigns.models import Campaign, SchoolClass, Student, StudentStatus
from tucai.fees.models import Payment, PaymentLine, PaymentState
from tucai.fees.money import fee_is_paid


def _paid_subquery(campaign_id: int) -> Coalesce:
    """Per-student sum of non-voided lines, as a correlated subquery (0 when none)."""
    total = (PaymentLine.objects.filter(student=OuterRef("pk"), payment__campaign_id=campaign_id,
                                        payment__state=PaymentState.RECORDED)
             .order_by().values("student").annotate(s=Sum("amount_fen")).values("s"))
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def student_paid_fen_map(*, campaign: Campaign, student_ids: Iterable[int]) -> dict[int, int]:
    """{student id: fen received (not voided)} for the given students; students without payments are absent."""
    ids = list(student_ids)
    if not ids:
        return {}
    rows = (PaymentLine.objects.filter(student_id__in=ids, payment__campaign=campaign,
                                       payment__state=PaymentState.RECORDED)
            .order_by().values("student_id").annotate(s=Sum("amount_fen")).values_list("student_id", "s"))
    return {sid: int(s or 0) for sid, s in rows}


def student_paid_fen(*, student: Student) -> int:
    return student_paid_fen_map(campaign=student.campaign, student_ids=[student.pk]).get(student.pk, 0)


def student_paid_status(*, student: Student) -> bool:
    """True when the student owes nothing: fee 0, or non-voided payments reach the fee."""
    fee = student.campaign.fee_per_student_fen
    return fee == 0 or fee_is_paid(fee_fen=fee, paid_fen=student_paid_fen(student=student))


def students_paid(*, campaign: Campaign, student_ids: Iterable[int]) -> dict[int, bool]:
    """{student id: paid in full} for every id given, in one query (ids not in the campaign read False...
    unless the fee is 0, when nobody owes anything)."""
    ids = list(student_ids)
    fee = campaign.fee_per_student_fen
    if fee == 0:
        return dict.fromkeys(ids, True)
    paid = student_paid_fen_map(campaign=campaign, student_ids=ids)
    return {i: fee_is_paid(fee_fen=fee, paid_fen=paid.get(i, 0)) for i in ids}


def student_fee_rows(*, campaign: Campaign, class_ids: Iterable[int] | None = None,
                     include_inactive: bool = False) -> QuerySet[Student]:
    """Students with ``paid_fen`` annotated (one query), class loaded, in class then 学号 order."""
    qs = Student.objects.filter(campaign=campaign).select_related("school_class", "school_class__department")
    if not include_inactive:
        qs = qs.filter(status=StudentStatus.ACTIVE)
    if class_ids is not None:
        qs = qs.filter(school_class_id__in=list(class_ids))
    return qs.annotate(paid_fen=_paid_subquery(campaign.pk)).order_by("school_class__name", "student_no")


def class_fee_summary(*, campaign: Campaign, class_ids: Iterable[int] | None = None) -> dict:
    """Per class (and in total): active students, paid, unpaid, expected fen (fee × active students) and
    received fen (every non-voided line of the class's students, so money taken for a student who later
    left the roster is still counted as received)."""
    fee = campaign.fee_per_student_fen
    ids = None if class_ids is None else list(class_ids)
    classes_qs = SchoolClass.objects.filter(campaign=campaign).select_related("department").order_by("name")
    if ids is not None:
        classes_qs = classes_qs.filter(pk__in=ids)
    rows: dict[int, dict] = {
        c.pk: {"id": c.pk, "name": c.name, "department": c.department.name, "students": 0, "paid": 0, "unpaid": 0,
               "expected_fen": 0, "received_fen": 0}
        for c in classes_qs}
    students = (Student.objects.filter(campaign=campaign, school_class_id__in=list(rows))
                .annotate(paid_fen=_paid_subquery(campaign.pk)).values_list("school_class_id", "status", "paid_fen"))
    for class_id, status, paid_fen in students:
        row = rows[class_id]
        row["received_fen"] += paid_fen
        if status != StudentStatus.ACTIVE:
            continue
        row["students"] += 1
        row["expected_fen"] += fee
        if fee_is_paid(fee_fen=fee, paid_fen=paid_fen):
            row["paid"] += 1
        else:
            row["unpaid"] += 1
    total = {"students": 0, "paid": 0, "unpaid": 0, "expected_fen": 0, "received_fen": 0}
    for row in rows.values():
        for key in total:
            total[key] += row[key]
    return {"campaign": campaign.code, "fee_per_student_fen": fee, "classes": list(rows.values()), "total": total}


def class_unpaid_students(*, campaign: Campaign, class_ids: Iterable[int] | None = None) -> list[Student]:
    """Active students who still owe (``paid_fen`` annotated), in class then 学号 order."""
    fee = campaign.fee_per_student_fen
    if fee == 0:
        return []
    return [s for s in student_fee_rows(campaign=campaign, class_ids=class_ids)
            if not fee_is_paid(fee_fen=fee, paid_fen=s.paid_fen)]


def payment_list(*, campaign: Campaign, class_ids: Iterable[int] | None = None,
                 student: Student | None = None) -> QuerySet[Payment]:
    """Payments of the campaign, newest first; limited to classes (their collections and their students'
    individual payments) or to one student's payments.

    Each payment carries ``line_count`` (students it covers), ``shown_count`` and ``shown_fen`` (its lines in
    ``class_ids``; all of them without a class limit) and ``partial`` (it also covers students outside
    ``class_ids``): a monitor sees only their own class's part of a payment that spans classes."""
    qs = Payment.objects.filter(campaign=campaign).select_related("school_class", "received_by", "voided_by")
    lines = PaymentLine.objects.filter(payment=OuterRef("pk")).order_by().values("payment")
    shown = lines
    if class_ids is not None:
        ids = list(class_ids)
        shown = lines.filter(student__school_class_id__in=ids)
        qs = qs.filter(Exists(shown))
    if student is not None:
        qs = qs.filter(Exists(lines.filter(student=student)))
    qs = qs.annotate(
        line_count=Subquery(lines.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
        shown_count=Subquery(shown.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
        shown_fen=Subquery(shown.annotate(s=Sum("amount_fen")).values("s"), output_field=IntegerField()),
    ).annotate(partial=ExpressionWrapper(Q(shown_count__lt=F("line_count")), output_field=BooleanField()))
    return qs.order_by("-received_at", "-pk")


def fees_class_scope(*, user, campaign: Campaign) -> frozenset[int] | None:
    """Which classes ``user`` may see fees of: all (``fees.view``), a monitor's own, or refused."""
    from tucai.accounts.selectors import user_class_scope

    return user_class_scope(user=user, campaign=campaign, perm="fees.view")


def payment_export_sheets(*, campaign: Campaign, class_ids: Iterable[int] | None = None
                          ) -> list[tuple[str, list[str], list[list]]]:
    """(title, header, rows) for the exports: per class, per student, the payments ledger. Money in yuan
    as text with two decimals (what a cashier reads), counts as numbers."""
    from tucai.fees.money import fen_to_yuan

    ids = None if class_ids is None else list(class_ids)
    summary = class_fee_summary(campaign=campaign, class_ids=ids)
    fee = campaign.fee_per_student_fen
    classes = [[r["department"], r["name"], r["students"], r["paid"], r["unpaid"], fen_to_yuan(r["expected_fen"]),
                fen_to_yuan(r["received_fen"])] for r in summary["classes"]]
    t = summary["total"]
    classes.append(["", "合计", t["students"], t["paid"], t["unpaid"], fen_to_yuan(t["expected_fen"]),
                    fen_to_yuan(t["received_fen"])])
    students = [[s.student_no, s.name, s.school_class.name, fen_to_yuan(fee), fen_to_yuan(s.paid_fen),
                 "已缴清" if fee_is_paid(fee_fen=fee, paid_fen=s.paid_fen) else "未缴清"]
                for s in student_fee_rows(campaign=campaign, class_ids=ids)]
    payments = []
    for p in payment_list(campaign=campaign, class_ids=ids):
        # Local time, as the pages show it (the database keeps UTC). A payment that also covers other
        # classes shows only the scoped classes' students and money, without the payer and reference.
        payments.append([p.pk, timezone.localtime(p.received_at).strftime("%Y-%m-%d %H:%M:%S"),
                         p.school_class.name if p.school_class else "", p.get_method_display(),
                         "" if p.partial else p.payer_name, "" if p.partial else p.reference, p.shown_count,
                         fen_to_yuan(p.shown_fen), p.get_state_display(), p.void_reason])
    return [
        ("班级汇总", ["学院", "班级", "人数", "已缴清", "未缴清", "应收（元）", "已收（元）"], classes),
        ("学生明细", ["学号", "姓名", "班级", "应缴（元）", "已缴（元）", "状态"], students),
        ("缴费记录", ["编号", "收款时间", "班级", "方式", "交款人", "收据号/交易号", "人数", "金额（元）", "状态",
                  "作废原因"], payments),
    ]


# Sheet names are also the ?sheet= keys of the CSV links; gettext_noop puts them in the catalogue for the link text.
EXPORT_SHEETS = (gettext_noop("班级汇总"), gettext_noop("学生明细"), gettext_noop("缴费记录"))


def fees_export_csv(*, campaign: Campaign, sheet: str = "学生明细", class_ids: Iterable[int] | None = None) -> bytes:
    from tucai.core.spreadsheets import csv_bytes

    for title, header, rows in payment_export_sheets(campaign=campaign, class_ids=class_ids):
        if title == sheet:
            return csv_bytes(header, rows)
    raise ValueError(sheet)


def fees_export_xlsx(*, campaign: Campaign, class_ids: Iterable[int] | None = None) -> bytes:
    from tucai.core.spreadsheets import xlsx_bytes

    return xlsx_bytes(payment_export_sheets(campaign=campaign, class_ids=class_ids))
