"""Capture day: queue tickets (拍摄序号). Capture codes, scans and counters are added beside them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketState(models.TextChoices):
    WAITING = "waiting", _("等待")
    CALLED = "called", _("已叫号")
    AT_CAMERA = "at_camera", _("拍摄中")
    DONE = "done", _("已完成")
    SKIPPED = "skipped", _("已过号")
    NO_SHOW = "no_show", _("未到")


# The queue's status pipeline as data (django-oscar style): state -> states it may move to.
# A skipped or no-show ticket is requeued (back to WAITING, behind those already waiting).
TICKET_TRANSITIONS: dict[str, frozenset[str]] = {
    TicketState.WAITING: frozenset({TicketState.CALLED, TicketState.NO_SHOW}),
    TicketState.CALLED: frozenset({TicketState.AT_CAMERA, TicketState.SKIPPED, TicketState.CALLED}),  # recall
    TicketState.AT_CAMERA: frozenset({TicketState.DONE, TicketState.SKIPPED}),
    TicketState.SKIPPED: frozenset({TicketState.WAITING}),
    TicketState.NO_SHOW: frozenset({TicketState.WAITING}),
    TicketState.DONE: frozenset({TicketState.AT_CAMERA}),  # a retake after acceptance reopens the ticket
}


class Ticket(models.Model):
    """A student's place in one room's queue on one day; ``number`` is the 拍摄序号."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="tickets",
                                 verbose_name=_("采集活动"))
    room = models.ForeignKey("campaigns.Room", on_delete=models.PROTECT, related_name="tickets",
                             verbose_name=_("拍摄室"))
    date = models.DateField(_("日期"))
    number = models.PositiveIntegerField(_("拍摄序号"))
    student = models.ForeignKey("campaigns.Student", on_delete=models.PROTECT, related_name="tickets",
                                verbose_name=_("学生"))
    state = models.CharField(_("状态"), max_length=12, choices=TicketState.choices, default=TicketState.WAITING,
                             db_index=True)
    # Order in the queue: the number at first, moved to the back on requeue (fair: nobody cuts in).
    queue_order = models.PositiveIntegerField(_("排队顺序"), db_index=True)
    requeue_count = models.PositiveSmallIntegerField(_("重新排队次数"), default=0)
    checked_in_at = models.DateTimeField(_("签到时间"), auto_now_add=True)
    called_at = models.DateTimeField(_("叫号时间"), null=True, blank=True)
    at_camera_at = models.DateTimeField(_("开始拍摄"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # The raw code scanned at check-in (a CHSI 采集码 travels with the photo to CHSI).
    raw_code = models.TextField(_("签到时扫描的码"), blank=True, default="")

    class Meta:
        verbose_name = _("排队号")
        verbose_name_plural = _("排队号")
        ordering = ["campaign", "room", "date", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "room", "date", "number"], name="uniq_ticket_number"),
            models.UniqueConstraint(fields=["campaign", "student", "date"], name="uniq_ticket_student_day"),
        ]
        indexes = [models.Index(fields=["room", "date", "state", "queue_order"]),
                   # The back of a room's queue (MAX(queue_order)) at every check-in: one index probe
                   # instead of reading all of the day's tickets.
                   models.Index(fields=["room", "date", "queue_order"], name="capture_ticket_queue_back")]

    def __str__(self) -> str:
        return f"{self.date} {self.room} #{self.number} {self.student}"


class CodeKind(models.TextChoices):
    TUCAI = "tucai", _("图采签名码")
    FOREIGN = "foreign", _("外部码（学信网采集码等）")
    MANUAL = "manual", _("人工查找")


class CaptureCode(models.Model):
    """One issued tucai capture code (采集码). The token itself is signed (HMAC) and carries
    (campaign, student, version); this row says whether that version is still valid."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="capture_codes",
                                 verbose_name=_("采集活动"))
    student = models.ForeignKey("campaigns.Student", on_delete=models.CASCADE, related_name="capture_codes",
                                verbose_name=_("学生"))
    version = models.PositiveIntegerField(_("版本"))
    token = models.CharField(_("码"), max_length=80, unique=True)
    issued_at = models.DateTimeField(_("发放时间"), auto_now_add=True)
    issued_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("发放人"))
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    revoked_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("作废人"))
    revoke_reason = models.CharField(_("作废原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("采集码")
        verbose_name_plural = _("采集码")
        ordering = ["student", "-version"]
        constraints = [models.UniqueConstraint(fields=["student", "version"], name="uniq_capture_code_version")]

    def __str__(self) -> str:
        return f"{self.student} v{self.version}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ForeignCode(models.Model):
    """An opaque code tucai cannot verify (a CHSI 采集码 or anything else), bound once to a student:
    by the configured decoder or by an operator; later scans of the same text resolve directly."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="foreign_codes",
                                 verbose_name=_("采集活动"))
    token_hash = models.CharField(_("码摘要"), max_length=64, help_text=_("SHA-256 of the raw text, for lookup"))
    raw_token = models.TextField(_("原始码"))
    student = models.ForeignKey("campaigns.Student", on_delete=models.CASCADE, related_name="foreign_codes",
                                verbose_name=_("学生"))
    source = models.CharField(_("来源"), max_length=20, default="operator")  # operator | decoder
    bound_at = models.DateTimeField(_("绑定时间"), auto_now_add=True)
    bound_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("绑定人"))

    class Meta:
        verbose_name = _("外部采集码")
        verbose_name_plural = _("外部采集码")
        constraints = [models.UniqueConstraint(fields=["campaign", "token_hash"], name="uniq_foreign_code")]

    def __str__(self) -> str:
        return f"{self.raw_token[:16]}… → {self.student}"


class TicketCounter(models.Model):
    """The last 拍摄序号 issued per (campaign, room, day); locked while the next one is allocated."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey("campaigns.Room", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    last_number = models.PositiveIntegerField(default=0)
    # The back of the queue (the largest queue_order given out), kept here rather than read as
    # MAX(queue_order): PostgreSQL's one-statement allocation reads subqueries from the snapshot taken
    # before it waited for this row's lock, so a requeue committed meanwhile would be missed.
    last_queue_order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("序号计数器")
        verbose_name_plural = _("序号计数器")
        constraints = [models.UniqueConstraint(fields=["campaign", "room", "date"], name="uniq_ticket_counter")]

    def __str__(self) -> str:
        return f"{self.date} {self.room}: {self.last_number}"


class ScanResult(models.TextChoices):
    ISSUED = "issued", _("已发号")
    REPEAT = "repeat", _("重复扫码（原号）")
    REFUSED = "refused", _("拒绝")


class CheckinScan(models.Model):
    """Every scan (or manual look-up) at a check-in desk, kept whatever its outcome."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="checkin_scans",
                                 verbose_name=_("采集活动"))
    room = models.ForeignKey("campaigns.Room", on_delete=models.CASCADE, related_name="+", verbose_name=_("拍摄室"))
    date = models.DateField(_("日期"))
    raw_code = models.TextField(_("扫描内容"), blank=True)
    code_kind = models.CharField(_("码类型"), max_length=10, choices=CodeKind.choices, blank=True)
    student = models.ForeignKey("campaigns.Student", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("学生"))
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="scans",
                               verbose_name=_("排队号"))
    result = models.CharField(_("结果"), max_length=10, choices=ScanResult.choices)
    reason = models.CharField(_("原因代码"), max_length=60, blank=True)
    warnings = models.JSONField(_("提示"), default=list, blank=True)
    desk = models.CharField(_("签到台"), max_length=40, blank=True)
    actor = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("操作员"))
    actor_label = models.CharField(_("操作者"), max_length=100, blank=True)
    # The desk's client-generated id for this submission: a retried POST finds the first one.
    nonce = models.CharField(_("提交标识"), max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("签到扫码记录")
        verbose_name_plural = _("签到扫码记录")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["campaign", "date", "room"])]

    def __str__(self) -> str:
        return f"{self.created_at:%H:%M:%S} {self.result} {self.reason}"


class StudentLoginFailure(models.Model):
    """A failed student sign-in on the code page (rate limit per IP and per 学号 across processes)."""

    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    student_no = models.CharField(max_length=40, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("学生登录失败")
        verbose_name_plural = _("学生登录失败")


class DeskToken(models.Model):
    """A check-in desk device's credential for the JSON check-in API, issued to a logged-in operator.

    Bound to one campaign, room and day (they are inside the signed token, so a desk cannot check
    students in elsewhere); sent in the ``Authorization`` header, never as a cookie, so a foreign
    page cannot make a browser use it (no CSRF). Revoked by setting ``revoked_at``; the operator's
    account and role are checked on every use."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("操作员"))
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("采集活动"))
    room = models.ForeignKey("campaigns.Room", on_delete=models.CASCADE, related_name="+", verbose_name=_("拍摄室"))
    date = models.DateField(_("日期"))
    desk = models.CharField(_("签到台"), max_length=40, blank=True)
    issued_at = models.DateTimeField(_("发放时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("失效时间"))
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    revoked_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("作废人"))

    class Meta:
        verbose_name = _("签到台令牌")
        verbose_name_plural = _("签到台令牌")

    def __str__(self) -> str:
        return f"desk token {self.pk} ({self.desk or '-'}, {self.date})"
