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

    class Meta:
        verbose_name = _("排队号")
        verbose_name_plural = _("排队号")
        ordering = ["campaign", "room", "date", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "room", "date", "number"], name="uniq_ticket_number"),
            models.UniqueConstraint(fields=["campaign", "student", "date"], name="uniq_ticket_student_day"),
        ]
        indexes = [models.Index(fields=["room", "date", "state", "queue_order"])]

    def __str__(self) -> str:
        return f"{self.date} {self.room} #{self.number} {self.student}"
