"""The one function that moves a shot between states; it refuses illegal moves."""

from __future__ import annotations

from django.db import transaction

from tucai.audit.services import audit_record
from tucai.core.state import lock_for_transition
from tucai.stations.models import SHOT_TRANSITIONS, Shot


def shot_transition(*, shot: Shot, to: str, actor=None, actor_label: str = "", note: str = "",
                    changes: dict | None = None, **fields) -> Shot:
    """Move ``shot`` to ``to`` under a row lock, set ``fields`` with it and write one audit entry.

    Callers pass the other fields that change together with the state (verdict, ticket ...), so the
    state and its data commit in one step and the audit entry lists them all."""
    with transaction.atomic():
        locked = lock_for_transition(Shot, shot.pk, to=to, transitions=SHOT_TRANSITIONS,
                                     code="shot.illegal_transition", noun_zh=f"照片 #{shot.pk} ",
                                     noun_en=f"Shot #{shot.pk}")
        old = locked.state
        diff = {"state": [old, to]} if old != to else {}
        for name, value in fields.items():
            before = getattr(locked, name)
            setattr(locked, name, value)
            # The check's report is large and kept on the row; the audit notes the verdict instead.
            if name != "report" and _plain(before) != _plain(value):
                diff[name] = [_plain(before), _plain(value)]
        diff.update(changes or {})
        locked.state = to
        locked.save()
        audit_record(actor=actor, actor_label=actor_label, action=f"shot.{to}" if old != to else "shot.update",
                     obj=locked, changes=diff, note=note, campaign_id=locked.campaign_id)
    shot.refresh_from_db()
    return shot


def _plain(value):
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "name") and hasattr(value, "storage"):
        return value.name or None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
