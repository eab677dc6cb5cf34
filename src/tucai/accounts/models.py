from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in: office staff, capture-unit operators, class monitors, students."""

    display_name = models.CharField(_("显示名"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.get_username()


class Role(models.TextChoices):
    OFFICE = "office", _("教务处")              # organises the campaign; sees full data
    OPERATOR = "operator", _("采集单位操作员")   # capture unit; may serve several institutions; sees masked IDs
    MONITOR = "monitor", _("班长")              # counts heads and pays for the class
    STUDENT = "student", _("学生")


class Membership(models.Model):
    """A user's role at one institution. Operators hold one per institution they serve."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("用户"))
    institution = models.ForeignKey(
        "campaigns.Institution", on_delete=models.CASCADE, related_name="memberships", verbose_name=_("院校")
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    school_class = models.ForeignKey(
        "campaigns.SchoolClass", null=True, blank=True, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("班级"), help_text=_("班长所管理的班级"),
    )
    student = models.ForeignKey(
        "campaigns.Student", null=True, blank=True, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("学生"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        # Two partial constraints instead of NULLS NOT DISTINCT, which SQLite lacks.
        constraints = [
            models.UniqueConstraint(fields=["user", "institution", "role"], condition=models.Q(school_class=None),
                                    name="uniq_membership_role"),
            models.UniqueConstraint(fields=["user", "institution", "role", "school_class"],
                                    condition=~models.Q(school_class=None), name="uniq_membership_class"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.institution}"
