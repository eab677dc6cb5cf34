"""Fee pages (thin: permissions, forms, rendering; the ledger logic is in services/selectors)."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tucai.accounts.selectors import user_can
from tucai.campaigns.models import Campaign, SchoolClass, Student
from tucai.campaigns.views import get_campaign_for
from tucai.core.downloads import export_response
from tucai.core.errors import TucaiError
from tucai.fees import selectors, services
from tucai.fees.models import Payment, PaymentMethod
from tucai.fees.money import fee_is_paid, fen_to_yuan, yuan_to_fen


def _scope(request, campaign: Campaign) -> frozenset[int] | None:
    try:
        return selectors.fees_class_scope(user=request.user, campaign=campaign)
    except TucaiError:
        raise PermissionDenied from None


def _can_record(request, campaign: Campaign) -> bool:
    return user_can(user=request.user, institution_id=campaign.institution_id, perm="fees.record")


def _can_void(request, campaign: Campaign) -> bool:
    return user_can(user=request.user, institution_id=campaign.institution_id, perm="fees.void")


# How many payments a page lists (newest first); the rest are in the export, and the page says so.
PAYMENTS_PAGE_LIMIT = 500
CLASS_PAGE_PAYMENTS_LIMIT = 50
# Largest primary key the database holds (bigint); a bigger number in the form is no row at all (SQLite raises
# OverflowError on it in an "in" lookup instead of finding nothing; an exact lookup in a URL is already a 404).
_PK_MAX = 2**63 - 1


def _form_values(request, campaign: Campaign) -> dict:
    """The payment fields every recording form shares, as typed (re-shown after an error), and the submitted
    form token. Nothing is cut here: over-long text is refused by the service with a message."""
    return {
        "method": request.POST.get("method", PaymentMethod.CASH),
        # The form opens with the campaign's fee; an amount cleared before sending is an error, not the fee.
        "amount_yuan": (request.POST.get("amount_yuan", "").strip() if request.method == "POST"
                        else fen_to_yuan(campaign.fee_per_student_fen)),
        "reference": request.POST.get("reference", "").strip(),
        "payer_name": request.POST.get("payer_name", "").strip(),
        "note": request.POST.get("note", "").strip(),
        "allow_extra": request.POST.get("allow_extra") == "1",
        "form_token": request.POST.get("form_token", "").strip(),
    }


def _new_token() -> str:
    """A fresh one-time token for a rendered form (see Payment.form_token)."""
    return secrets.token_urlsafe(18)


def _record(request, campaign: Campaign, *, students, school_class=None, form: dict, up_to_owed: bool = False):
    payment = services.payment_record(
        campaign=campaign, students=students, method=form["method"], amount_fen_each=yuan_to_fen(form["amount_yuan"]),
        school_class=school_class, payer_name=form["payer_name"], reference=form["reference"], note=form["note"],
        actor=request.user, allow_extra=form["allow_extra"], up_to_owed=up_to_owed, form_token=form["form_token"])
    if payment.created:
        messages.success(request, _("已入账：缴费记录 #%(id)s，%(n)s 人，合计 %(total)s 元") % {
            "id": payment.pk, "n": payment.lines.count(), "total": fen_to_yuan(payment.total_fen)})
    else:
        messages.info(request, _("这笔缴费已入账（缴费记录 #%(id)s），未重复记录") % {"id": payment.pk})
    return payment


def _limited(qs, limit: int) -> dict:
    """The first ``limit`` rows of ``qs`` and, when there are more, how many in all (so the page can say that
    rows were left out)."""
    rows = list(qs[:limit + 1])
    total = qs.count() if len(rows) > limit else None
    return {"payments": rows[:limit], "payments_total": total}


def _parse_pks(values: list[str]) -> set[int]:
    """Student ids from the form's checkboxes: ASCII digits within the database's range, or refused."""
    ids = set()
    for v in values:
        v = v.strip()
        if not (v.isascii() and v.isdigit() and 0 < int(v) <= _PK_MAX):
            raise TucaiError("fees.student_invalid", f"无效的学生编号“{v[:40]}”，请刷新页面后重新选择",
                             f"Invalid student id {v[:40]!r}; reload the page and select again", details={"value": v[:40]})
        ids.add(int(v))
    return ids


def _base_context(campaign: Campaign) -> dict:
    return {"campaign": campaign, "methods": PaymentMethod.choices, "fee_fen": campaign.fee_per_student_fen}


def _fresh(form: dict) -> dict:
    # Every rendering gets a new token: the submitted one is used up only by a payment recorded with it.
    return form | {"form_token": _new_token()}


@login_required
@require_GET
def overview(request, code: str):
    campaign = get_campaign_for(request, code, "campaign.view")
    class_ids = _scope(request, campaign)
    download = export_response(
        request, stem=f"fees-{campaign.code}", sheets=selectors.EXPORT_SHEETS, default_sheet="学生明细",
        xlsx=lambda: selectors.fees_export_xlsx(campaign=campaign, class_ids=class_ids),
        csv=lambda sheet: selectors.fees_export_csv(campaign=campaign, sheet=sheet, class_ids=class_ids))
    if download is not None:
        return download
    return render(request, "fees/overview.html", {
        **_base_context(campaign), "summary": selectors.class_fee_summary(campaign=campaign, class_ids=class_ids),
        "class_scoped": class_ids is not None, "can_record": _can_record(request, campaign), "can_void": _can_void(request, campaign),
        "sheets": selectors.EXPORT_SHEETS})


def _class_render(request, campaign: Campaign, school_class: SchoolClass, *, form: dict | None = None,
                  selected: set[int] | None = None, error: TucaiError | None = None):
    fee = campaign.fee_per_student_fen
    rows = list(selectors.student_fee_rows(campaign=campaign, class_ids=[school_class.pk]))
    for s in rows:
        s.is_paid = fee_is_paid(fee_fen=fee, paid_fen=s.paid_fen)
        s.owed_fen = max(0, fee - s.paid_fen)
    if selected is None:
        # The unpaid are preselected; a part-payer is charged only what they still owe (see class_record).
        selected = {s.pk for s in rows if not s.is_paid}
    summary = selectors.class_fee_summary(campaign=campaign, class_ids=[school_class.pk])
    return render(request, "fees/class.html", {
        **_base_context(campaign), "school_class": school_class, "students": rows, "selected": selected,
        "row": summary["classes"][0], "can_record": _can_record(request, campaign), "can_void": _can_void(request, campaign),
        "form": _fresh(form or _form_values(request, campaign) | {"payer_name": school_class.monitor.name
                                                                  if school_class.monitor else ""}),
        **_limited(selectors.payment_list(campaign=campaign, class_ids=[school_class.pk]), CLASS_PAGE_PAYMENTS_LIMIT),
        "void_next": reverse("fees:class", args=[campaign.code, school_class.pk]),
        "error": error}, status=400 if error else 200)


def _class_for(request, code: str, class_id: int) -> tuple[Campaign, SchoolClass]:
    campaign = get_campaign_for(request, code, "campaign.view")
    class_ids = _scope(request, campaign)
    school_class = get_object_or_404(SchoolClass.objects.select_related("department", "monitor"), pk=class_id,
                                     campaign=campaign)
    if class_ids is not None and school_class.pk not in class_ids:
        raise PermissionDenied   # a monitor sees only their own class
    return campaign, school_class


@login_required
@require_GET
def class_page(request, code: str, class_id: int):
    campaign, school_class = _class_for(request, code, class_id)
    return _class_render(request, campaign, school_class)


@login_required
@require_POST
def class_record(request, code: str, class_id: int):
    """A class collection: the 班长 hands over the money for the ticked classmates. Each is charged what they
    still owe, at most the amount per student typed (a part-payer pays the rest, not the fee again)."""
    campaign, school_class = _class_for(request, code, class_id)
    if not _can_record(request, campaign):
        raise PermissionDenied
    form = _form_values(request, campaign)
    ids: set[int] = set()
    try:
        ids = _parse_pks(request.POST.getlist("student"))
        students = list(Student.objects.filter(pk__in=ids, campaign=campaign))
        if len(students) != len(ids):
            raise TucaiError("fees.student_not_in_campaign", "所选学生不属于本次采集活动",
                             "Some selected students are not in this campaign")
        _record(request, campaign, students=students, school_class=school_class, form=form, up_to_owed=True)
    except TucaiError as exc:
        return _class_render(request, campaign, school_class, form=form, selected=ids, error=exc)
    return HttpResponseRedirect(reverse("fees:class", args=[campaign.code, school_class.pk]))


@login_required
def student_page(request, code: str):
    """One student's fee status and payments, found by 学号; records an individual payment (late or
    make-up students pay for themselves)."""
    campaign = get_campaign_for(request, code, "fees.view")
    no = (request.POST.get("student_no") or request.GET.get("no") or "").strip()
    student = Student.objects.select_related("school_class", "campaign").filter(campaign=campaign,
                                                                                 student_no=no).first() if no else None
    error = None
    form = _form_values(request, campaign)
    if request.method == "POST":
        if not _can_record(request, campaign):
            raise PermissionDenied
        try:
            if student is None:
                raise TucaiError("fees.student_not_found", f"本活动中没有学号“{no}”", f"No student number {no!r}")
            _record(request, campaign, students=[student], form=form)
            return HttpResponseRedirect(reverse("fees:student", args=[campaign.code]) + "?"
                                        + urlencode({"no": student.student_no}))
        except TucaiError as exc:
            error = exc
    elif no and student is None:
        error = TucaiError("fees.student_not_found", f"本活动中没有学号“{no}”", f"No student number {no!r}")
    paid_fen = owed_fen = 0
    if student is not None:
        paid_fen = selectors.student_paid_fen(student=student)
        owed_fen = max(0, campaign.fee_per_student_fen - paid_fen)
        if request.method != "POST" and owed_fen:
            form["amount_yuan"] = fen_to_yuan(owed_fen)   # a part-payer pays the rest
    return render(request, "fees/student.html", {
        **_base_context(campaign), "no": no, "student": student, "paid_fen": paid_fen, "owed_fen": owed_fen,
        "is_paid": student is not None and selectors.student_paid_status(student=student),
        **(_limited(selectors.payment_list(campaign=campaign, student=student), PAYMENTS_PAGE_LIMIT)
           if student else {"payments": []}),
        "void_next": reverse("fees:student", args=[campaign.code]) + "?" + urlencode({"no": no}),
        "form": _fresh(form), "error": error, "can_record": _can_record(request, campaign), "can_void": _can_void(request, campaign)},
        status=400 if error and request.method == "POST" else 200)


@login_required
@require_GET
def payments(request, code: str):
    campaign = get_campaign_for(request, code, "campaign.view")
    class_ids = _scope(request, campaign)
    return render(request, "fees/payments.html", {
        **_base_context(campaign), "class_scoped": class_ids is not None, "can_record": _can_record(request, campaign), "can_void": _can_void(request, campaign),
        "void_next": reverse("fees:payments", args=[campaign.code]),
        **_limited(selectors.payment_list(campaign=campaign, class_ids=class_ids), PAYMENTS_PAGE_LIMIT)})


@login_required
@require_POST
def payment_void(request, pk: int):
    payment = get_object_or_404(Payment.objects.select_related("campaign"), pk=pk)
    campaign = payment.campaign
    if not _can_void(request, campaign):
        raise PermissionDenied
    try:
        services.payment_void(payment=payment, reason=request.POST.get("reason", ""), actor=request.user)
        messages.success(request, _("缴费记录 #%(id)s 已作废") % {"id": payment.pk})
    except TucaiError as exc:
        messages.error(request, exc.message)
    nxt = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = reverse("fees:payments", args=[campaign.code])
    return HttpResponseRedirect(nxt)
