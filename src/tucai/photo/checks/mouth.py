"""mouth.closed: inner-lip gap relative to the mouth width."""

from __future__ import annotations

from tucai.photo import analysis as an
from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result

FAIL = ("请自然闭合嘴唇，不要露齿", "Close the lips naturally (no teeth showing)")
PASS = ("嘴唇闭合", "Lips closed")


def check_mouth_closed(ctx: Context) -> CheckResult:
    lim = ctx.profile.mouth_closed_max
    v = ctx.a.mouth_gap
    if not ctx.has_face or v is None:
        return result("mouth.closed", None, None, lim, fail=FAIL, passed=PASS, unmeasured=NO_FACE, heuristic=True)
    if ctx.outside(an.LIPS_OUTER) > 0:
        return result("mouth.closed", None, None, lim, fail=FAIL, passed=PASS, heuristic=True, unmeasured=(
            "嘴部在画面之外，无法判断", "The mouth is outside the picture: cannot be measured"))
    if ctx.covered(an.LIPS_OUTER):
        return result("mouth.closed", None, {"lips_contrast": round(ctx.feature_contrast(an.LIPS_OUTER), 1)}, lim,
                      fail=FAIL, passed=PASS, heuristic=True, unmeasured=(
                          "嘴部被遮挡，无法判断：请摘下口罩，露出嘴唇", "The mouth is covered: take off the mask, show the lips"))
    return result("mouth.closed", v <= lim, round(v, 3), lim, fail=FAIL, passed=PASS, heuristic=True)
