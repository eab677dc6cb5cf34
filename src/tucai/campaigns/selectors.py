"""Reads for campaigns: look-ups by code, student queries for exports and pages."""

from __future__ import annotations

from django.db.models import QuerySet

from tucai.campaigns.models import Campaign, Student
from tucai.core.errors import TucaiError


def campaign_by_code(code: str) -> Campaign:
    """The campaign whose ``code`` (e.g. ``demo-2024``) is given; ``campaign.not_found`` otherwise."""
    campaign = Campaign.objects.select_related("institution").filter(code=(code or "").strip()).first()
    if campaign is None:
        raise TucaiError("campaign.not_found", f"找不到采集活动“{code}”", f"No campaign with code {code!r}",
                         details={"code": code})
    return campaign


def student_list(*, campaign: Campaign, include_inactive: bool = True) -> QuerySet[Student]:
    """Students of ``campaign`` with class and department loaded, in 学号 order."""
    qs = Student.objects.filter(campaign=campaign).select_related("school_class", "school_class__department")
    if not include_inactive:
        qs = qs.filter(status="active")
    return qs.order_by("student_no")
