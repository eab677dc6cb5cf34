"""The JSON report of one photo (schema documented in docs/photo-report.md; other tools read it).

Top-level keys (always present): ``schema``, ``file``, ``profile``, ``verdict`` ("pass" | "retake" |
"error"), ``error`` (null or {"code", "message" (zh), "message_en"}), ``checks`` (list, see
:class:`tucai.photo.checks.CheckResult`), ``retake_reasons`` (the failed/unmeasurable-but-required
checks' messages, in check order), ``unmeasured`` (ids whose ``ok`` is null), ``timing_ms`` (total),
``timings_ms`` (per stage), ``image`` (original size/format or null), ``geometry`` (FaceGeometry in
original pixels or null), ``normalized`` (crop/quality/size of the 480×640 output, or null).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from tucai.photo.checks import CheckResult
from tucai.photo.geometry import FaceGeometry
from tucai.photo.spec import Profile

SCHEMA_VERSION = 1
VERDICTS = ("pass", "retake", "error")


def verdict_for(checks: list[CheckResult], profile: Profile) -> str:
    for c in checks:
        if c.ok is False or (c.ok is None and c.id in profile.required_measurable):
            return "retake"
    return "pass"


def retake_reasons(checks: list[CheckResult], profile: Profile) -> list[dict]:
    return [{"id": c.id, "message_zh": c.message_zh, "message_en": c.message_en}
            for c in checks if c.ok is False or (c.ok is None and c.id in profile.required_measurable)]


def _r(v: float) -> float:
    return round(float(v), 1)


def build(*, file: str | None, profile: Profile, verdict: str, error: dict | None = None,
          checks: list[CheckResult] | None = None, timings_ms: dict[str, float] | None = None,
          image: dict | None = None, geometry: FaceGeometry | None = None, normalized: dict | None = None) -> dict:
    checks = checks or []
    timings = {k: round(v, 1) for k, v in (timings_ms or {}).items()}
    return {
        "schema": SCHEMA_VERSION,
        "file": file,
        "profile": profile.id,
        "verdict": verdict,
        "error": error,
        "checks": [c.as_dict() for c in checks],
        "retake_reasons": retake_reasons(checks, profile) if verdict == "retake" else [],
        "unmeasured": [c.id for c in checks if c.ok is None],
        "timing_ms": timings.get("total", 0.0),
        "timings_ms": timings,
        "image": image,
        "geometry": None if geometry is None else {k: _r(v) for k, v in asdict(geometry).items()},
        "normalized": normalized,
    }


def check(report: dict, check_id: str) -> dict[str, Any] | None:
    """The entry of ``check_id`` in a report, or None."""
    for c in report.get("checks", []):
        if c["id"] == check_id:
            return c
    return None
