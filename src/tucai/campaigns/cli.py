"""What the ``tucai`` commands share about campaigns."""

from __future__ import annotations

from django.core.management.base import CommandError

from tucai.campaigns.models import Campaign


def campaign_arg(code: str) -> Campaign:
    """The campaign a ``--campaign CODE`` names, or a clear error (exit status 1)."""
    campaign = Campaign.objects.filter(code=code).first()
    if campaign is None:
        raise CommandError(f"没有代码为 {code} 的采集活动 / no campaign with the code {code}")
    return campaign
