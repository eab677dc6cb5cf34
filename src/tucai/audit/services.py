"""The one place audit entries are written. Every service that changes a student's data, a photo
or money calls :func:`audit_record` inside its transaction, so the entry commits or rolls back with
the change it describes."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models

from tucai.audit.models import AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return f"<{len(value)} bytes>"
    if hasattr(value, "name") and hasattr(value, "storage"):  # FieldFile
        return value.name or None
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Field values of ``obj`` (foreign keys as ids) in a JSON-friendly form."""
    names = list(fields) if fields is not None else [
        f.attname for f in obj._meta.concrete_fields if f.name not in ("id",)
    ]
    return {name: _jsonable(getattr(obj, name)) for name in names}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def _scope(obj: models.Model | None) -> tuple[int | None, int | None]:
    """Institution and campaign ids of ``obj`` where it has them, for scoped audit views."""
    if obj is None:
        return None, None
    campaign_id = getattr(obj, "campaign_id", None)
    institution_id = getattr(obj, "institution_id", None)
    if campaign_id is None and obj._meta.label == "campaigns.Campaign":
        campaign_id = obj.pk
    if institution_id is None and campaign_id is not None:
        from tucai.campaigns.models import Campaign

        institution_id = Campaign.objects.filter(pk=campaign_id).values_list("institution_id", flat=True).first()
    return institution_id, campaign_id


def audit_record(
    *,
    actor=None,
    actor_label: str = "",
    action: str,
    obj: models.Model | None = None,
    entity_type: str | None = None,
    entity_id: Any = None,
    changes: dict[str, Sequence[Any]] | None = None,
    note: str = "",
    campaign_id: int | None = None,
    institution_id: int | None = None,
) -> AuditEntry:
    inst, camp = _scope(obj)
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_label=actor_label or ("" if user else "system"),
        action=action,
        entity_type=entity_type or (obj._meta.label_lower if obj is not None else ""),
        entity_id=str(entity_id if entity_id is not None else (obj.pk if obj is not None else "")),
        entity_label=str(obj)[:200] if obj is not None else "",
        institution_id=institution_id if institution_id is not None else inst,
        campaign_id=campaign_id if campaign_id is not None else camp,
        changes={k: list(v) for k, v in (changes or {}).items()},
        note=note,
    )


class AuditBatch:
    """Audit entries of one bulk write (a roster import of tens of thousands of rows), inserted at once.

    Values are adapted once and written with a plain INSERT (COPY on PostgreSQL): for 50,000 entries
    ``bulk_create`` measured 3.8–5.1 s against 0.8–0.9 s this way. Call :meth:`flush` inside the same
    transaction as the change it describes."""

    COLUMNS = ["at", "actor", "actor_label", "action", "entity_type", "entity_id", "entity_label",
               "institution_id", "campaign_id", "changes", "note"]

    def __init__(self, *, actor=None, actor_label: str = "", institution_id: int | None = None,
                 campaign_id: int | None = None, note: str = "", at: dt.datetime | None = None):
        from django.db import connection
        from django.utils import timezone

        user = actor if getattr(actor, "is_authenticated", False) else None
        self._json = connection.ops.adapt_json_value
        self._head = (connection.ops.adapt_datetimefield_value(at or timezone.now()), user.pk if user else None,
                      actor_label or ("" if user else "system"))
        self._scope = (institution_id, campaign_id)
        self._note = note
        self.rows: list[tuple] = []

    def add(self, action: str, entity_type: str, entity_id: Any, entity_label: str, changes: dict) -> None:
        self.rows.append((*self._head, action, entity_type, str(entity_id), entity_label[:200], *self._scope,
                          self._json(changes, None), self._note))

    def flush(self) -> None:
        from tucai.core.bulk import bulk_insert_rows

        bulk_insert_rows(AuditEntry, self.COLUMNS, self.rows)
        self.rows = []
