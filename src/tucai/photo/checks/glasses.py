"""glasses.tinted and glasses.glare, measured in the lens area around each eye.

Heuristics: without a glasses detector we compare the lens area (brow to below the eye) with the
cheek skin. Tinted lenses make it darker or coloured; glare puts near-white specular pixels there."""

from __future__ import annotations

import numpy as np

from tucai.photo import analysis as an
from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result, to_lab


def lens_boxes(ctx: Context) -> list[tuple[int, int, int, int]]:
    lm = ctx.a.landmarks
    h, w = ctx.a.rgb.shape[:2]
    out = []
    for eye, brow in ((an.EYE_R, an.BROW_R), (an.EYE_L, an.BROW_L)):
        xo, xi = lm[eye["outer"], 0], lm[eye["inner"], 0]
        ew = abs(xi - xo)
        cy = float(np.mean(lm[list(eye["top"]) + list(eye["bottom"]), 1]))
        top = float(np.mean(lm[list(brow), 1]))
        span = max(cy - top, 0.3 * ew)
        x0, x1 = min(xo, xi) - 0.2 * ew, max(xo, xi) + 0.2 * ew
        y0, y1 = top + 0.25 * span, cy + 0.9 * span
        box = (int(max(0, x0)), int(max(0, y0)), int(min(w, x1)), int(min(h, y1)))
        if box[2] - box[0] >= 4 and box[3] - box[1] >= 4:
            out.append(box)
    return out


NOSE_WING_R, NOSE_WING_L = 129, 358   # face-mesh points on the outer nose wings


def _median_lab(ctx: Context, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """Median L*a*b* of a patch, read on a grid of about 100 px per face width (a median needs no more)."""
    step = max(1, int(ctx.face_w / 100))
    return np.median(to_lab(ctx.a.rgb[y0:y1:step, x0:x1:step]).reshape(-1, 3), axis=0)


def _clipped(ctx: Context, x0: int, y0: int, x1: int, y1: int) -> bool:
    """Whether a tenth of a patch has a channel at the top of its range (the hue there is not the skin's)."""
    step = max(1, int(ctx.face_w / 100))
    px = ctx.a.rgb[y0:y1:step, x0:x1:step]
    return bool(px.size) and float((px.max(axis=2) >= ctx.profile.clip_level_high).mean()) > 0.1


def warm_hue_shift(ctx: Context) -> float | None:
    """Hue rotation (degrees, + = towards yellow) of the middle of the lower lens area (well below the
    eye, over the upper cheek) against the lower cheek beside the nose, below any lens.

    Amber, yellow and brown lenses cast their colour on the skin behind them without darkening it
    much; bare skin under the eyes is never yellower than the cheek (shadows and dark circles turn it
    redder/bluer). None where either patch is too grey for a hue."""
    lm = ctx.a.landmarks
    h, w = ctx.a.rgb.shape[:2]
    lens, cheek = [], []
    for eye, wing, corner, contour in ((an.EYE_R, NOSE_WING_R, an.MOUTH_OUTER_R, an.CHEEK_R),
                                       (an.EYE_L, NOSE_WING_L, an.MOUTH_OUTER_L, an.CHEEK_L)):
        xo, xi = lm[eye["outer"], 0], lm[eye["inner"], 0]
        ew = abs(xi - xo)
        yb = float(np.mean(lm[list(eye["bottom"]), 1]))
        x0, x1 = int(max(0, min(xo, xi) + 0.15 * ew)), int(min(w, max(xo, xi) - 0.15 * ew))
        y0, y1 = int(max(0, yb + 0.25 * ew)), int(min(h, yb + 0.6 * ew))
        yn, ym = float(lm[an.NOSE_TIP, 1]), float(lm[corner, 1])
        xw, xc = float(lm[wing, 0]), float(lm[contour, 0])
        c0, c1 = sorted((xw + 0.3 * (xc - xw), xw + 0.7 * (xc - xw)))
        r0, r1 = yn + 0.2 * (ym - yn), ym
        c0, c1, r0, r1 = int(max(0, c0)), int(min(w, c1)), int(max(0, r0)), int(min(h, r1))
        if x1 - x0 < 2 or y1 - y0 < 2 or c1 - c0 < 2 or r1 - r0 < 2:
            return None
        if _clipped(ctx, x0, y0, x1, y1) or _clipped(ctx, c0, r0, c1, r1):
            return None     # a blown-out channel shifts the hue (over-exposed skin turns yellow), not a lens
        lens.append(_median_lab(ctx, x0, y0, x1, y1))
        cheek.append(_median_lab(ctx, c0, r0, c1, r1))
    a_in, b_in = np.mean(lens, axis=0)[1:]
    a_out, b_out = np.mean(cheek, axis=0)[1:]
    cmin = ctx.profile.tint_hue_chroma_min
    if np.hypot(a_in, b_in) < cmin or np.hypot(a_out, b_out) < cmin:
        return None
    d = np.degrees(np.arctan2(b_in, a_in) - np.arctan2(b_out, a_out))
    return float((d + 180) % 360 - 180)


def tint_measure(ctx: Context) -> dict | None:
    """Lightness ratio and colour shift of the strip just below each eye (inside the lower half of a
    lens, where a tinted lens shows best and an uncovered face shows cheek-like skin) against the cheeks."""
    skin = ctx.skin_lab
    if skin is None:
        return None
    lm = ctx.a.landmarks
    h, w = ctx.a.rgb.shape[:2]
    ratios, shifts = [], []
    for eye in (an.EYE_R, an.EYE_L):
        xo, xi = lm[eye["outer"], 0], lm[eye["inner"], 0]
        ew = abs(xi - xo)
        yb = float(np.mean(lm[list(eye["bottom"]), 1]))
        x0, x1 = int(max(0, min(xo, xi) + 0.1 * ew)), int(min(w, max(xo, xi) - 0.1 * ew))
        y0, y1 = int(max(0, yb + 0.12 * ew)), int(min(h, yb + 0.4 * ew))
        if x1 - x0 < 2 or y1 - y0 < 1:
            return None
        med = np.median(ctx.lab_at(x0, y0, x1, y1).reshape(-1, 3), axis=0)
        ratios.append(float(med[0]) / max(float(skin[0]), 1.0))
        shifts.append(float(np.hypot(med[1] - skin[1], med[2] - skin[2])))
    return {"lightness_ratio": float(np.mean(ratios)), "colour_shift": float(np.mean(shifts))}


def check_tinted(ctx: Context) -> CheckResult:
    p = ctx.profile
    lim = p.tint_max
    limits = {"score_max": p.tint_max, "warm_hue_shift_max_deg": p.tint_warm_shift_max_deg}
    fail = ("请摘下有色眼镜（不得佩戴有色镜片或美瞳）", "Remove tinted glasses (no tinted lenses or coloured contacts)")
    passed = ("未见有色镜片", "No tinted lenses")
    if not ctx.has_face:
        return result("glasses.tinted", None, None, limits, fail=fail, passed=passed, unmeasured=NO_FACE,
                      heuristic=True)
    m = tint_measure(ctx) if not ctx.eyes_cut else None
    if m is None:
        return result("glasses.tinted", None, None, limits, fail=fail, passed=passed, heuristic=True)
    # One score: darkening (1 − lightness ratio) plus the colour shift in C*ab / tint_shift_scale (TUCAI, from
    # the dev set: dark sunglasses score ≥ 1.3, amber/purple tints ≥ 1.0, bare eyes ≤ 0.7).
    score = (1.0 - m["lightness_ratio"]) + m["colour_shift"] / p.tint_shift_scale
    # Light amber/yellow lenses hardly darken: their colour cast on the skin behind them shows instead.
    warm = warm_hue_shift(ctx)
    ok = score <= lim and (warm is None or warm <= p.tint_warm_shift_max_deg)
    ctx.cache["tinted"] = score > lim      # dark enough to hide the eyes (a light amber cast does not)
    value = {"score": round(score, 3), "warm_hue_shift_deg": None if warm is None else round(warm, 1)}
    return result("glasses.tinted", ok, value, limits, fail=fail, passed=passed, heuristic=True)


def check_glare(ctx: Context) -> CheckResult:
    lim = ctx.profile.glare_max_fraction
    fail = ("镜片反光，请调整灯光角度或让学生微调眼镜", "Reflections on the glasses: move the lights or tilt the glasses slightly")
    passed = ("镜片无反光", "No glare on glasses")
    if not ctx.has_face or ctx.skin_lab is None:
        return result("glasses.glare", None, None, lim, fail=fail, passed=passed, unmeasured=NO_FACE, heuristic=True)
    if ctx.eyes_cut:
        return result("glasses.glare", None, None, lim, fail=fail, passed=passed, heuristic=True)
    lm = ctx.a.landmarks
    p = ctx.profile
    thr = max(p.glare_min_l, float(ctx.skin_lab[0]) + p.glare_above_skin_l)
    fracs = []
    for (x0, y0, x1, y1), iris, ring in zip(lens_boxes(ctx), (an.IRIS_R, an.IRIS_L), (an.IRIS_R_RING, an.IRIS_L_RING)):
        yy, xx = np.mgrid[y0:y1, x0:x1]
        c = lm[iris, :2]
        r = float(np.mean(np.linalg.norm(lm[list(ring), :2] - c, axis=1))) * p.glare_iris_margin
        outside_iris = (xx - c[0]) ** 2 + (yy - c[1]) ** 2 > r * r   # catch-lights in the pupils are wanted
        lab = ctx.lab_at(x0, y0, x1, y1)
        spec = (lab[..., 0] >= thr) & (np.hypot(lab[..., 1], lab[..., 2]) < p.glare_chroma_max) & outside_iris
        fracs.append(float(spec.sum()) / max(1, outside_iris.sum()))
    if not fracs:
        return result("glasses.glare", None, None, lim, fail=fail, passed=passed, heuristic=True)
    v = max(fracs)
    return result("glasses.glare", v <= lim, round(v, 4), lim, fail=fail, passed=passed, heuristic=True)
