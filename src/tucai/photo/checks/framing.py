"""framing: can the 480×640 geometry bands be met by cropping the ORIGINAL without leaving it and
with enough source resolution? Uses the normaliser's own crop planner
(:func:`tucai.photo.normalize.plan_crop`), so "framing passes" means exactly "normalisation can crop"."""

from __future__ import annotations

from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result


def plan(ctx: Context):
    """(CropPlan | None, NormalizeError | None) for the original image."""
    from tucai.photo.normalize import NormalizeError, plan_crop

    if "plan" not in ctx.cache:
        g = ctx.a.geometry
        if g is None:
            ctx.cache["plan"] = (None, None)
        else:
            try:
                ctx.cache["plan"] = (plan_crop(g, ctx.a.decoded.original_size, ctx.profile), None)
            except NormalizeError as e:
                ctx.cache["plan"] = (None, e)
    return ctx.cache["plan"]


def check_framing(ctx: Context) -> CheckResult:
    p = ctx.profile
    limit = {"crown_y": [p.crown_y.lo, p.crown_y.hi], "eye_y": [p.eye_y.lo, p.eye_y.hi],
             "face_width": [p.face_width.lo, p.face_width.hi], "min_source_face_width_px": p.min_source_face_width_px,
             "max_upscale": p.max_upscale}
    if not ctx.has_face:
        return result("framing", None, None, limit, fail=("", ""), passed=("", ""), unmeasured=NO_FACE)
    a = ctx.a
    g = a.geometry
    value = {"source_face_width_px": round(g.face_width, 1)}
    if a.crown_cut:
        value["code"] = "framing.crown_cut"
        return result("framing", False, value, limit, passed=("", ""), fail=(
            "头顶超出画面，请让学生稍后退或把相机稍向上，拍下完整头部",
            "The top of the head is cut off: frame the whole head with room above it"))
    cp, err = plan(ctx)
    if cp is None:
        value["code"] = err.code if err is not None else "framing.unknown"
        zh, en = (err.message_zh, err.message_en) if err is not None else ("无法裁剪", "Cannot be cropped")
        return result("framing", False, value, limit, passed=("", ""), fail=(zh, en))
    cg = cp.geometry
    value.update(scale=round(cp.scale, 4), crop=list(cp.crop), crown_y=round(cg.crown_y, 1),
                 eye_y=round(cg.eye_y, 1), face_width=round(cg.face_width, 1))
    return result("framing", True, value, limit, fail=("", ""), passed=(
        "构图可裁切为 480×640 规格", "Framing can be cropped to the 480×640 bands"))
