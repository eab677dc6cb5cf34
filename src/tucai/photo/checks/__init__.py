"""The checks, one module per family. :func:`run_checks` runs them all in a stable order.

Each check returns a :class:`CheckResult` with a stable ``id``; ``ok`` is None where the photo does
not allow the measurement (never a silent pass). ``heuristic`` marks checks that estimate
something the spec states in words (eyes open, head cover ...) rather than measure a number it gives."""

from __future__ import annotations

from tucai.photo.analysis import Analysis
from tucai.photo.checks import background, clothing, exposure, eyes, face, framing, glasses, headwear, mouth, pose, sharpness
from tucai.photo.checks._base import CheckResult, Context
from tucai.photo.spec import Profile

# Order matters only where a later check reads what an earlier one found (tinted → eyes, colour → clothing).
CHECKS = (
    face.check_face_count,
    pose.check_yaw, pose.check_pitch, pose.check_roll,
    glasses.check_tinted, glasses.check_glare,
    eyes.check_eyes_open,
    mouth.check_mouth_closed,
    headwear.check_head_cover, headwear.check_hair_eyebrows,
    framing.check_framing,
    background.check_color, background.check_uniform,
    clothing.check_clothing, clothing.check_shoulders,
    exposure.check_exposure, exposure.check_contrast, exposure.check_lighting_balance,
    sharpness.check_sharpness,
)

CHECK_IDS = ("face.count", "pose.yaw", "pose.pitch", "pose.roll", "glasses.tinted", "glasses.glare", "eyes.open",
             "mouth.closed", "head.cover", "hair.eyebrows", "framing", "background.color", "background.uniform",
             "clothing.color", "shoulders.level", "exposure", "contrast", "lighting.balance", "sharpness")


def run_checks(a: Analysis, profile: Profile) -> tuple[list[CheckResult], Context]:
    ctx = Context(a=a, profile=profile)
    return [c(ctx) for c in CHECKS], ctx


__all__ = ["CHECKS", "CHECK_IDS", "CheckResult", "Context", "run_checks"]
