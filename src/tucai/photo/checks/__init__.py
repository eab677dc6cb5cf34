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


# On a photo on its side the face measures still hold (the mesh follows the face), but everything read
# along the picture's up and down does not; on an upside-down one the mesh itself fitted an upright face.
_FRAME_BOUND = ("framing", "background.color", "background.uniform", "clothing.color", "shoulders.level",
                "head.cover", "hair.eyebrows", "contrast")
_UPSIDE_DOWN_OK = ("face.count", "pose.roll")


def run_checks(a: Analysis, profile: Profile) -> tuple[list[CheckResult], Context]:
    ctx = Context(a=a, profile=profile)
    results = [c(ctx) for c in CHECKS]
    if pose.rotated(ctx):
        upside_down = bool(a.extras.get("upside_down"))
        for r in results:
            if (r.id not in _UPSIDE_DOWN_OK) if upside_down else (r.id in _FRAME_BOUND):
                # Its advice would be nonsense ("aim lower", "no blue tops" of the backdrop beside the head).
                r.ok, r.value = None, None
                r.message_zh, r.message_en = "照片方向不对，无法测量", "The photo is not upright: cannot be measured"
    return results, ctx


__all__ = ["CHECKS", "CHECK_IDS", "CheckResult", "Context", "run_checks"]
