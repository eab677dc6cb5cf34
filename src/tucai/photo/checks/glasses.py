"""glasses.tinted and glasses.glare, measured in the lens area around each eye.

Heuristics: without a glasses detector we compare the lens area (brow to below the eye) with the
cheek skin. Tinted lenses make it darker or coloured; glare puts near-white specular pixels there."""

from __future__ import annotations

import numpy as np

from tucai.photo import analysis as an
from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result


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


def tint_measure(ctx: Context) -> dict | None:
    skin = ctx.skin_lab
    boxes = lens_boxes(ctx)
    if skin is None or len(boxes) < 2:
        return None
    Ls, chroma = [], []
    for x0, y0, x1, y1 in boxes:
        px = ctx.lab[y0:y1, x0:x1].reshape(-1, 3)
        med = np.median(px, axis=0)
        Ls.append(med[0])
        chroma.append(float(np.hypot(med[1] - skin[1], med[2] - skin[2])))
    dark = 1.0 - float(np.mean(Ls)) / max(float(skin[0]), 1.0)
    return {"darkening": dark, "colour_shift": float(np.mean(chroma))}


def check_tinted(ctx: Context) -> CheckResult:
    p = ctx.profile
    lim = p.tint_max
    fail = ("请摘下有色眼镜（不得佩戴有色镜片或美瞳）", "Remove tinted glasses (no tinted lenses or coloured contacts)")
    passed = ("未见有色镜片", "No tinted lenses")
    if not ctx.has_face:
        return result("glasses.tinted", None, None, lim, fail=fail, passed=passed, unmeasured=NO_FACE, heuristic=True)
    m = tint_measure(ctx)
    if m is None:
        return result("glasses.tinted", None, None, lim, fail=fail, passed=passed, heuristic=True)
    # One score: darkening plus a colour shift counted in the same units (C*ab / 100).
    score = m["darkening"] + m["colour_shift"] / 100.0
    ok = score <= lim
    ctx.cache["tinted"] = not ok
    return result("glasses.tinted", ok, round(score, 3), lim, fail=fail, passed=passed, heuristic=True)


def check_glare(ctx: Context) -> CheckResult:
    lim = ctx.profile.glare_max_fraction
    fail = ("镜片反光，请调整灯光角度或让学生微调眼镜", "Reflections on the glasses: move the lights or tilt the glasses slightly")
    passed = ("镜片无反光", "No glare on glasses")
    if not ctx.has_face or ctx.skin_lab is None:
        return result("glasses.glare", None, None, lim, fail=fail, passed=passed, unmeasured=NO_FACE, heuristic=True)
    lm = ctx.a.landmarks
    L = ctx.lab[..., 0]
    C = np.hypot(ctx.lab[..., 1], ctx.lab[..., 2])
    thr = max(90.0, float(ctx.skin_lab[0]) + 20.0)
    fracs = []
    for (x0, y0, x1, y1), iris, ring in zip(lens_boxes(ctx), (an.IRIS_R, an.IRIS_L), (an.IRIS_R_RING, an.IRIS_L_RING)):
        yy, xx = np.mgrid[y0:y1, x0:x1]
        c = lm[iris, :2]
        r = float(np.mean(np.linalg.norm(lm[list(ring), :2] - c, axis=1))) * 1.4
        outside_iris = (xx - c[0]) ** 2 + (yy - c[1]) ** 2 > r * r   # catch-lights in the pupils are wanted
        spec = (L[y0:y1, x0:x1] >= thr) & (C[y0:y1, x0:x1] < 12) & outside_iris
        fracs.append(float(spec.sum()) / max(1, outside_iris.sum()))
    if not fracs:
        return result("glasses.glare", None, None, lim, fail=fail, passed=passed, heuristic=True)
    v = max(fracs)
    return result("glasses.glare", v <= lim, round(v, 4), lim, fail=fail, passed=passed, heuristic=True)
