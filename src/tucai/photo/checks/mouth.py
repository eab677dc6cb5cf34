"""mouth.closed: inner-lip gap relative to the mouth width."""

from __future__ import annotations

from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result

FAIL = ("请自然闭合嘴唇，不要露齿", "Close the lips naturally (no teeth showing)")
PASS = ("嘴唇闭合", "Lips closed")


def check_mouth_closed(ctx: Context) -> CheckResult:
    lim = ctx.profile.mouth_closed_max
    v = ctx.a.mouth_gap
    if not ctx.has_face or v is None:
        return result("mouth.closed", None, None, lim, fail=FAIL, passed=PASS, unmeasured=NO_FACE, heuristic=True)
    return result("mouth.closed", v <= lim, round(v, 3), lim, fail=FAIL, passed=PASS, heuristic=True)
