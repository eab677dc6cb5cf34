"""Proofreading (校对) and corrections (勘误): after the shoot the office publishes the photos; each
student confirms their photo and data or asks for a correction within the window (14 days in the
notice); the office resolves each correction. Then the photos go to CHSI (tucai.handoff)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProofingWindow(models.Model):
    campaign = models.OneToOneField("campaigns.Campaign", on_delete=models.CASCADE, related_name="proofing_window",
                                    verbose_name=_("采集活动"))
    opens_at = models.DateTimeField(_("校对开始"))
    closes_at = models.DateTimeField(_("勘误截止"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("发布人"))

    class Meta:
        verbose_name = _("校对期")
        verbose_name_plural = _("校对期")

    def __str__(self) -> str:
        return f"{self.campaign} {self.opens_at:%Y-%m-%d}–{self.closes_at:%Y-%m-%d}"


class ProofState(models.TextChoices):
    CONFIRMED = "confirmed", _("已确认无误")
    OPEN = "open", _("申请勘误")
    FIXED = "fixed", _("已更正")
    RETAKE = "retake", _("需补拍")
    REJECTED = "rejected", _("核实无误")


class CorrectionField(models.TextChoices):
    PHOTO = "photo", _("照片")
    NAME = "name", _("姓名")
    DOC_NUMBER = "doc_number", _("证件号码")
    OTHER = "other", _("其他")


# Who moves a proof where, as data (``proofing.services.proof_transition`` refuses anything else).
# The student: confirm, or ask for a correction (again, after an answer) while the window is open.
# The office: answer an open correction — data corrected, photo to be retaken, or checked and right.
STUDENT_MOVES: dict[str, frozenset[str]] = {
    "": frozenset({ProofState.CONFIRMED, ProofState.OPEN}),
    ProofState.CONFIRMED: frozenset({ProofState.CONFIRMED, ProofState.OPEN}),  # a second tap changes nothing
    ProofState.OPEN: frozenset({ProofState.OPEN}),  # more detail on the same request
    ProofState.FIXED: frozenset({ProofState.CONFIRMED, ProofState.OPEN}),
    ProofState.RETAKE: frozenset({ProofState.CONFIRMED, ProofState.OPEN}),  # after the new photo
    ProofState.REJECTED: frozenset({ProofState.CONFIRMED, ProofState.OPEN}),
}
OFFICE_MOVES: dict[str, frozenset[str]] = {
    ProofState.OPEN: frozenset({ProofState.FIXED, ProofState.RETAKE, ProofState.REJECTED}),
}


class Proof(models.Model):
    """A student's answer to proofreading: the latest state, with the request and its answer."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="proofs",
                                 verbose_name=_("采集活动"))
    student = models.OneToOneField("campaigns.Student", on_delete=models.CASCADE, related_name="proof",
                                   verbose_name=_("学生"))
    shot = models.ForeignKey("stations.Shot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("校对的照片"))
    state = models.CharField(_("状态"), max_length=12, choices=ProofState.choices, db_index=True)
    field = models.CharField(_("勘误项"), max_length=12, choices=CorrectionField.choices, blank=True)
    detail = models.TextField(_("勘误说明"), blank=True)
    answer = models.TextField(_("处理说明"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("处理人"))
    answered_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("学生回复时间"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("校对")
        verbose_name_plural = _("校对")
        indexes = [models.Index(fields=["campaign", "state"])]

    def __str__(self) -> str:
        return f"{self.student} {self.get_state_display()}"
