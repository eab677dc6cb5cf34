"""The fee ledger: payments received (a class collection handed over by the 班长, or one student's own
payment at the make-up centre) and one line per student they cover. Amounts are integer fen (分):
money is never a float."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("现金")
    WECHAT = "wechat", _("微信")
    ALIPAY = "alipay", _("支付宝")
    BANK = "bank", _("银行转账")
    CAMPUS_CARD = "campus_card", _("校园卡")
    OTHER = "other", _("其他")


class PaymentState(models.TextChoices):
    RECORDED = "recorded", _("已入账")
    VOIDED = "voided", _("已作废")


# The payment's status pipeline as data: a recorded payment may be voided (wrong class, counterfeit
# note, refunded); a voided one stays voided — a correction is a new payment, so the ledger keeps history.
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    PaymentState.RECORDED: frozenset({PaymentState.VOIDED}),
    PaymentState.VOIDED: frozenset(),
}


class Payment(models.Model):
    """Money received once: by class (``school_class`` set, payer usually the 班长) or for single students."""

    # PROTECT: money records outlive nothing by accident; a campaign with payments is not deleted silently.
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="payments",
                                 verbose_name=_("采集活动"))
    school_class = models.ForeignKey("campaigns.SchoolClass", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="payments", verbose_name=_("班级"),
                                     help_text=_("以班为单位统一缴费时填写"))
    state = models.CharField(_("状态"), max_length=10, choices=PaymentState.choices, default=PaymentState.RECORDED,
                             db_index=True)
    method = models.CharField(_("缴费方式"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.CASH)
    payer_name = models.CharField(_("交款人"), max_length=100, blank=True, help_text=_("如班长姓名"))
    reference = models.CharField(_("收据号 / 交易号"), max_length=100, blank=True)
    # A one-time token put in each rendered form: a double click or a browser retry of the same form comes back
    # with the same token and gets the payment already recorded, even when no receipt number was typed.
    form_token = models.CharField(_("表单令牌"), max_length=64, blank=True, editable=False)
    total_fen = models.PositiveIntegerField(_("合计（分）"))
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("收款人"))
    received_at = models.DateTimeField(_("收款时间"), default=timezone.now, db_index=True)
    note = models.TextField(_("备注"), blank=True)
    voided_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("作废人"))
    void_reason = models.CharField(_("作废原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("缴费记录")
        verbose_name_plural = _("缴费记录")
        ordering = ["-received_at", "-id"]
        constraints = [
            # A receipt / transaction number is entered once per campaign; blank means "none given". Only among
            # recorded payments: after a void (wrong class, wrong amount) the real number is used again.
            models.UniqueConstraint(fields=["campaign", "reference"],
                                    condition=~models.Q(reference="") & models.Q(state=PaymentState.RECORDED),
                                    name="uniq_payment_reference_recorded"),
            # One payment per rendered form, voided or not: a replay of a form whose payment was voided since
            # must not record it again.
            models.UniqueConstraint(fields=["campaign", "form_token"], condition=~models.Q(form_token=""),
                                    name="uniq_payment_form_token"),
            models.CheckConstraint(condition=models.Q(total_fen__gt=0), name="payment_total_positive"),
            models.CheckConstraint(
                condition=(models.Q(state=PaymentState.VOIDED, voided_at__isnull=False)
                           | models.Q(state=PaymentState.RECORDED, voided_at__isnull=True)),
                name="payment_void_stamped"),
        ]

    def __str__(self) -> str:
        yuan, fen = divmod(self.total_fen, 100)
        return f"#{self.pk} {yuan}.{fen:02d} {self.get_method_display()}"

    @property
    def is_voided(self) -> bool:
        return self.state == PaymentState.VOIDED


class PaymentLine(models.Model):
    """The part of a payment that pays for one student."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="lines", verbose_name=_("缴费记录"))
    student = models.ForeignKey("campaigns.Student", on_delete=models.PROTECT, related_name="payment_lines",
                                verbose_name=_("学生"))
    amount_fen = models.PositiveIntegerField(_("金额（分）"))

    class Meta:
        verbose_name = _("缴费明细")
        verbose_name_plural = _("缴费明细")
        ordering = ["payment", "student"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "student"], name="uniq_payment_line_student"),
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="payment_line_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id}: {self.amount_fen}"
