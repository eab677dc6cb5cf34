"""eyes.open: eye aspect ratio (lid gap / eye width) of both eyes."""

from __future__ import annotations

from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result

FAIL = ("请睁大双眼，自然平视镜头（拍摄时不要眨眼）", "Open both eyes and look at the camera (don't blink)")
PASS = ("双眼睁开", "Eyes open")


def check_eyes_open(ctx: Context) -> CheckResult:
    lim = ctx.profile.eye_open_min
    a = ctx.a
    if not ctx.has_face or a.ear_left is None or a.ear_right is None:
        return result("eyes.open", None, None, lim, fail=FAIL, passed=PASS, unmeasured=NO_FACE, heuristic=True)
    if ctx.cache.get("tinted"):
        return result("eyes.open", None, None, lim, fail=FAIL, passed=PASS, heuristic=True, unmeasured=(
            "有色镜片遮挡眼睛，无法判断", "Tinted lenses hide the eyes: cannot be measured"))
    v = (a.ear_left + a.ear_right) / 2
    return result("eyes.open", v >= lim, round(v, 3), lim, fail=FAIL, passed=PASS, heuristic=True)
