from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """Who changed what, when, with old and new values. Append-only."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("操作者"))
    actor_label = models.CharField(_("操作者标识"), max_length=150, blank=True,
                                   help_text=_("无用户时的来源，如 cli、watcher、system"))
    action = models.CharField(_("动作"), max_length=80, db_index=True)
    entity_type = models.CharField(_("对象类型"), max_length=80, db_index=True)
    entity_id = models.CharField(_("对象ID"), max_length=64, db_index=True)
    entity_label = models.CharField(_("对象"), max_length=200, blank=True)
    institution_id = models.BigIntegerField(_("院校ID"), null=True, blank=True, db_index=True)
    campaign_id = models.BigIntegerField(_("采集活动ID"), null=True, blank=True, db_index=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True, help_text=_("{字段: [旧值, 新值]}"))
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["entity_type", "entity_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor or self.actor_label} {self.action} {self.entity_label}"
