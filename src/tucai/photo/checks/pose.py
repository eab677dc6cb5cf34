"""pose.yaw / pose.pitch / pose.roll from the face-mesh landmarks (see analysis._pose)."""

from __future__ import annotations

from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result


def _one(ctx: Context, id: str, v: float | None, limit: float, fail: tuple[str, str], passed: tuple[str, str]):
    if not ctx.has_face or v is None:
        return result(id, None, None, limit, fail=fail, passed=passed, unmeasured=NO_FACE)
    return result(id, abs(v) <= limit, round(v, 1), limit, fail=fail, passed=passed)


def check_yaw(ctx: Context) -> CheckResult:
    return _one(ctx, "pose.yaw", ctx.a.yaw, ctx.profile.max_yaw,
                ("头部左右偏转，请正对相机、平视镜头", "The head is turned: face the camera and look straight at it"),
                ("头部未左右转动", "Head not turned"))


def check_pitch(ctx: Context) -> CheckResult:
    v = ctx.a.pitch
    if (v or 0) > 0:
        fail = ("低头了，请抬头平视镜头（相机与眼睛同高）", "Head bowed: raise the chin slightly and look straight ahead (camera at eye level)")
    else:
        fail = ("仰头了，请微收下巴平视镜头", "Head tilted back: lower the chin slightly and look straight ahead")
    return _one(ctx, "pose.pitch", v, ctx.profile.max_pitch, fail, ("头部未俯仰", "Head level (no nodding)"))


def check_roll(ctx: Context) -> CheckResult:
    return _one(ctx, "pose.roll", ctx.a.roll, ctx.profile.max_roll,
                ("头部歪斜，请端正头部", "The head is tilted sideways: hold it upright"),
                ("头部端正", "Head upright"))
