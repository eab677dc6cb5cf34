"""head.cover (hats, caps, hoods, scarves) and hair.eyebrows (fringe over the brows). Heuristics."""

from __future__ import annotations

import numpy as np

from tucai.photo import analysis as an
from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result


def head_cover_features(ctx: Context) -> dict | None:
    """Measures of the head region above the hairline.

    ``height``: (eye − crown) / (chin − eye); a hat raises the crown. ``unhair``: share of the head
    top (person mask between crown and forehead) that is neither dark like hair nor like the skin
    (bald heads, fair hair count as hair if they are not saturated). ``width``: widest extent of the
    person mask just above the forehead / face width (brims, hoods)."""
    a = ctx.a
    g = a.geometry_local
    lm = a.landmarks
    if g is None or a.mask is None or ctx.skin_lab is None:
        return None
    h, w = a.mask.shape
    fore = float(lm[an.FOREHEAD, 1])
    height = (g.eye_y - g.crown_y) / max(g.chin_y - g.eye_y, 1.0)
    y0, y1 = int(max(0, g.crown_y)), int(max(0, fore - 0.05 * g.face_width))
    x0, x1 = int(max(0, g.centre_x - 0.45 * g.face_width)), int(min(w, g.centre_x + 0.45 * g.face_width))
    if y1 - y0 < 3 or x1 - x0 < 3:
        unhair = None
    else:
        m = a.mask[y0:y1, x0:x1] > 0.5
        px = ctx.lab_at(x0, y0, x1, y1)[m]
        if px.shape[0] < 20:
            unhair = None
        else:
            L, C = px[:, 0], np.hypot(px[:, 1], px[:, 2])
            skin = ctx.skin_lab
            dskin = np.sqrt(((px - skin) ** 2).sum(axis=1))
            hairlike = ((L < 45) & (C < 25)) | (dskin < 15) | ((C < 30) & (L < 75) & (px[:, 2] > 5))
            unhair = float(1.0 - hairlike.mean())
    yb = int(np.clip(fore - 0.1 * g.face_width, 0, h - 1))
    # Only around the head: shoulders or a neighbour further out are not a brim.
    c0, c1 = int(max(0, g.centre_x - 1.5 * g.face_width)), int(min(w, g.centre_x + 1.5 * g.face_width))
    row = np.zeros(w, bool)
    row[c0:c1] = a.mask[yb, c0:c1] > 0.5
    cols = np.flatnonzero(row)
    width = float((cols.max() - cols.min() + 1) / g.face_width) if cols.size else None
    return {"height": float(height), "unhair": unhair, "width": width}


def head_cover_score(f: dict) -> float:
    # Weighted evidence, each term 0..1 (TUCAI, tuned with bench/photo_eval.py).
    s = 0.0
    if f["unhair"] is not None:
        s += 0.8 * f["unhair"]
    s += 0.6 * float(np.clip((f["height"] - 1.35) / 0.5, 0, 1))
    if f["width"] is not None:
        s += 0.4 * float(np.clip((f["width"] - 1.35) / 0.4, 0, 1))
    return s


def check_head_cover(ctx: Context) -> CheckResult:
    lim = ctx.profile.head_cover_max
    fail = ("请摘下帽子、头巾等头部遮挡物", "Take off the hat, cap, hood or headscarf")
    passed = ("未见头部遮挡", "No head covering")
    if not ctx.has_face:
        return result("head.cover", None, None, lim, fail=fail, passed=passed, unmeasured=NO_FACE, heuristic=True)
    f = head_cover_features(ctx)
    if f is None:
        return result("head.cover", None, None, lim, fail=fail, passed=passed, heuristic=True)
    v = head_cover_score(f)
    return result("head.cover", v <= lim, round(v, 3), lim, fail=fail, passed=passed, heuristic=True)


def check_hair_eyebrows(ctx: Context) -> CheckResult:
    lim = ctx.profile.hair_eyebrows_max
    fail = ("头发遮挡眉毛或眼睛，请把刘海拨开", "Hair covers the eyebrows or eyes: move the fringe aside")
    passed = ("眉毛、眼睛未被头发遮挡", "Eyebrows and eyes visible")
    if not ctx.has_face or ctx.skin_lab is None:
        return result("hair.eyebrows", None, None, lim, fail=fail, passed=passed, unmeasured=NO_FACE, heuristic=True)
    lm = ctx.a.landmarks
    skin_L = float(ctx.skin_lab[0])
    fracs = []
    for brow, eye in ((an.BROW_R, an.EYE_R), (an.BROW_L, an.EYE_L)):
        bp = lm[list(brow), :2]
        eye_y = float(np.mean(lm[list(eye["top"]), 1]))
        brow_y = float(bp[:, 1].mean())
        gap = max(eye_y - brow_y, 3.0)
        # The strip just above the brow: forehead skin unless a fringe hangs there.
        x0, x1 = int(bp[:, 0].min()), int(bp[:, 0].max())
        y0, y1 = int(brow_y - 1.6 * gap), int(brow_y - 0.5 * gap)
        y0, y1 = max(0, y0), max(0, y1)
        if x1 - x0 < 3 or y1 - y0 < 2:
            continue
        fracs.append(float(np.mean(ctx.lab_at(x0, y0, x1, y1)[..., 0] < skin_L - 25)))
    if len(fracs) < 2:
        return result("hair.eyebrows", None, None, lim, fail=fail, passed=passed, heuristic=True)
    v = max(fracs)
    return result("hair.eyebrows", v <= lim, round(v, 3), lim, fail=fail, passed=passed, heuristic=True)


