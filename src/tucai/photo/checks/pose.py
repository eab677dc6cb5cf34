"""pose.yaw / pose.pitch / pose.roll from the face-mesh landmarks (see analysis._pose)."""

from __future__ import annotations

from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result


def _one(ctx: Context, id: str, v: float | None, limit: float, fail: tuple[str, str], passed: tuple[str, str]):
    if not ctx.has_face or v is None:
        return result(id, None, None, limit, fail=fail, passed=passed, unmeasured=NO_FACE)
    if ctx.outside() > ctx.profile.landmarks_outside_max:
        return result(id, None, None, limit, fail=fail, passed=passed, unmeasured=(
            "脸部有一部分在画面之外，无法测量", "Part of the face is outside the picture: cannot be measured"))
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


ROTATED = ("照片方向不对（横置或倒置），请把照片转正；不得旋转人像", "The photo is on its side or upside down: turn it upright")


def rotated(ctx: Context) -> bool:
    """The picture itself is turned (a camera held sideways without an orientation tag, a photo upside
    down): then no face measure means anything, and the advice is to turn the photo, not the head."""
    r = ctx.a.roll
    # A person found without a visible face (pose model) has no roll to trust.
    return (ctx.has_face and r is not None and abs(r) > ctx.profile.rotated_roll_deg
            and ctx.a.faces[0].source != "person")


def check_roll(ctx: Context) -> CheckResult:
    fail = ROTATED if rotated(ctx) else ("头部歪斜，请端正头部", "The head is tilted sideways: hold it upright")
    return _one(ctx, "pose.roll", ctx.a.roll, ctx.profile.max_roll, fail, ("头部端正", "Head upright"))
