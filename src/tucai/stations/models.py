"""Camera stations and the shots they take.

A :class:`Station` is one camera in a room; its ``current_ticket`` is the student in front of it, and
every frame that arrives (hot folder or upload) binds to that ticket. A :class:`Shot` is one received
file: the original is kept in storage under its content hash (each file exactly once per campaign),
the photo check writes a verdict, and the photographer accepts, retakes or overrides it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Station(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="stations",
                                 verbose_name=_("采集活动"))
    room = models.ForeignKey("campaigns.Room", on_delete=models.PROTECT, related_name="camera_stations",
                             verbose_name=_("拍摄室"))
    name = models.CharField(_("机位名称"), max_length=50, default="1")
    hot_folder = models.CharField(_("热文件夹"), max_length=500, blank=True,
                                  help_text=_("联机拍摄软件保存照片的文件夹（由 tucai station watch 监视）"))
    current_ticket = models.ForeignKey("capture.Ticket", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+", verbose_name=_("当前排队号"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("拍摄机位")
        verbose_name_plural = _("拍摄机位")
        ordering = ["campaign", "room", "name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "room", "name"], name="uniq_station_name")]

    def __str__(self) -> str:
        return f"{self.room} · {self.name}"


class ShotState(models.TextChoices):
    RECEIVED = "received", _("已接收")
    UNMATCHED = "unmatched", _("未匹配")
    CHECKED = "checked", _("已检测")
    ACCEPTED = "accepted", _("已采用")
    REJECTED = "rejected", _("需重拍")
    OVERRIDE = "override", _("强制采用")


# The shot's life as data: state -> states it may move to (see ``stations.state.shot_transition``).
SHOT_TRANSITIONS: dict[str, frozenset[str]] = {
    ShotState.RECEIVED: frozenset({ShotState.CHECKED, ShotState.UNMATCHED}),
    # Reassigned to a ticket: checked at once when the verdict is already there, else the check moves it.
    # Or discarded (a test frame) as a retake.
    # UNMATCHED → UNMATCHED: the check's verdict lands on a frame still waiting in the bucket.
    ShotState.UNMATCHED: frozenset({ShotState.CHECKED, ShotState.RECEIVED, ShotState.REJECTED, ShotState.UNMATCHED}),
    # A checked frame can still be moved to the right ticket if it was bound to the wrong one.
    ShotState.CHECKED: frozenset({ShotState.ACCEPTED, ShotState.REJECTED, ShotState.OVERRIDE, ShotState.CHECKED}),
    # A retake after acceptance (e.g. spotted at proofreading on the spot).
    ShotState.ACCEPTED: frozenset({ShotState.REJECTED}),
    ShotState.OVERRIDE: frozenset({ShotState.REJECTED}),
    ShotState.REJECTED: frozenset(),
}

ACCEPTED_STATES = (ShotState.ACCEPTED, ShotState.OVERRIDE)


class Verdict(models.TextChoices):
    PASS = "pass", _("合格")
    RETAKE = "retake", _("需重拍")
    ERROR = "error", _("检测出错")


class Shot(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="shots",
                                 verbose_name=_("采集活动"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="shots", verbose_name=_("机位"))
    ticket = models.ForeignKey("capture.Ticket", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="shots", verbose_name=_("排队号"))
    student = models.ForeignKey("campaigns.Student", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="shots", verbose_name=_("学生"))
    state = models.CharField(_("状态"), max_length=12, choices=ShotState.choices, default=ShotState.RECEIVED,
                             db_index=True)
    # The camera's file, byte for byte, under a content-addressed name that is never overwritten.
    original = models.FileField(_("原始文件"), max_length=300)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("字节数"), default=0)
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    source_path = models.CharField(_("来源路径"), max_length=1000, blank=True)
    source_mtime_ns = models.BigIntegerField(_("来源修改时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True, db_index=True)
    verdict = models.CharField(_("检测结论"), max_length=10, choices=Verdict.choices, blank=True)
    report = models.JSONField(_("检测报告"), default=dict, blank=True)
    checked_at = models.DateTimeField(_("检测时间"), null=True, blank=True)
    # The normalised 480×640 as the check produced it (for the station preview) ...
    preview = models.FileField(_("预览"), max_length=300, blank=True)
    # ... and the one stored as the student's photo when the photographer accepts.
    normalized = models.FileField(_("标准照片"), max_length=300, blank=True)
    override_reason = models.TextField(_("强制采用理由"), blank=True)
    # The raw scanned capture-code token of the ticket's check-in (travels with the photo to CHSI).
    capture_token = models.TextField(_("采集码原文"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("处理人"))
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("照片")
        verbose_name_plural = _("照片")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "sha256"], name="uniq_shot_sha256")]
        indexes = [
            models.Index(fields=["station", "received_at"]),
            models.Index(fields=["campaign", "state"]),
            models.Index(fields=["student", "state"]),
        ]

    def __str__(self) -> str:
        who = self.student.name if self.student_id and self.student else _("未匹配")
        return f"#{self.pk} {who} {self.sha256[:10]}"

    @property
    def is_accepted(self) -> bool:
        return self.state in ACCEPTED_STATES

    @property
    def failed_checks(self) -> list[dict]:
        """Checks that failed or could not be measured (``ok`` false or null)."""
        return [c for c in (self.report or {}).get("checks", []) if not c.get("ok", True)]

    @property
    def reasons(self) -> list[dict]:
        """What the photographer reads: the engine's error, else its retake reasons, else failed checks."""
        report = self.report or {}
        err = report.get("error")
        if err:
            return [{"id": err.get("code", ""), "message_zh": err.get("message_zh") or err.get("message", ""),
                     "message_en": err.get("message_en", "")}]
        reasons = report.get("retake_reasons") or [
            {"id": c.get("id", ""), "message_zh": c.get("message_zh", ""), "message_en": c.get("message_en", "")}
            for c in self.failed_checks]
        # Checks that could not run for the same cause ("no single face") say so once.
        seen: set[str] = set()
        out = []
        for r in reasons:
            if r.get("message_zh") not in seen:
                seen.add(r.get("message_zh"))
                out.append(r)
        return out
