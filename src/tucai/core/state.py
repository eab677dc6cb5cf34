"""Status pipelines as data (django-oscar style): one helper that locks the row and refuses illegal moves.

Each app keeps its transition table beside its model (``TICKET_TRANSITIONS``, ``SHOT_TRANSITIONS``,
``IMPORT_JOB_TRANSITIONS``) and one function that changes state; those functions start here."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import models

from tucai.core.errors import TucaiError


def lock_for_transition(model: type[models.Model], pk, *, to: str, transitions: Mapping[str, frozenset[str]],
                        code: str, noun_zh: str, noun_en: str, state_field: str = "state") -> models.Model:
    """The row ``pk`` of ``model`` locked FOR UPDATE, after checking that ``state → to`` is allowed.

    Must run inside ``transaction.atomic()``. Raises ``TucaiError(code)`` naming both states."""
    locked = model.objects.select_for_update().get(pk=pk)
    current = getattr(locked, state_field)
    if to not in transitions.get(current, frozenset()):
        labels = dict(model._meta.get_field(state_field).choices or ())
        raise TucaiError(
            code,
            f"{noun_zh}不能从“{labels.get(current, current)}”变为“{labels.get(to, to)}”",
            f"{noun_en} cannot move from {current} to {to}",
            details={"from": current, "to": to},
        )
    return locked
