"""head.cover (hats, caps, hoods, scarves) and hair.eyebrows (fringe over the brows). Heuristics."""

from __future__ import annotations

import cv2
import numpy as np

from tucai.photo import analysis as an
from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result, to_lab

HEAD_FACE_PX = 64   # head.cover measures colours on a copy with the face this wide (medians need no more)


def _head_region(ctx: Context) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """L*a*b* and person mask (bool) of the head and temples on a small copy, with the copy's origin
    (analysis px) and scale; cached. Everything head.cover reads lies in it."""
    if "head_region" not in ctx.cache:
        a, g = ctx.a, ctx.a.geometry_local
        h, w = a.mask.shape
        fw = g.face_width
        brow = float(np.mean(a.landmarks[list(an.BROW_R + an.BROW_L), 1]))
        x0, x1 = int(max(0, g.centre_x - 0.7 * fw)), int(min(w, g.centre_x + 0.7 * fw))
        y0, y1 = int(max(0, min(g.crown_y, brow - 0.6 * fw))), int(min(h, brow + 0.35 * fw))
        f = min(1.0, HEAD_FACE_PX / max(fw, 1.0))
        size = (max(1, round((x1 - x0) * f)), max(1, round((y1 - y0) * f)))
        rgb, m = a.rgb[y0:y1, x0:x1], a.mask[y0:y1, x0:x1]
        if rgb.size == 0:       # the head lies outside the photo (cut-off face): nothing to read
            ctx.cache["head_region"] = (np.zeros((0, 0, 3), np.float32), np.zeros((0, 0), bool), 0.0, 0.0, f)
            return ctx.cache["head_region"]
        if f < 1.0:
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            m = cv2.resize(m, size, interpolation=cv2.INTER_NEAREST)
        ctx.cache["head_region"] = (to_lab(rgb), m > 0.5, float(x0), float(y0), f)
    return ctx.cache["head_region"]


def _head_pixels(ctx: Context, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """L*a*b* pixels (N×3) of the person mask inside an analysis-px box, read from the small copy."""
    lab, m, ox, oy, f = _head_region(ctx)
    h, w = m.shape
    c0, c1 = int(np.clip(round((x0 - ox) * f), 0, w)), int(np.clip(round((x1 - ox) * f), 0, w))
    r0, r1 = int(np.clip(round((y0 - oy) * f), 0, h)), int(np.clip(round((y1 - oy) * f), 0, h))
    return lab[r0:r1, c0:c1][m[r0:r1, c0:c1]]


def hair_like(ctx: Context, px: np.ndarray) -> np.ndarray:
    """Which L*a*b* pixels (N×3) of the head top look like the person's hair or bare scalp."""
    L, C = px[:, 0], np.hypot(px[:, 1], px[:, 2])
    skin = ctx.skin_lab
    # Bald crowns are skin lit from above: the skin's hue and about its chroma (light changes
    # lightness, not the hue of skin), lighter than the cheeks is fine. A beige hat is not.
    cs = float(np.hypot(skin[1], skin[2]))
    if cs < 8:      # a black-and-white photo (or a washed-out one): hue means nothing, compare ΔE
        scalp = np.sqrt(((px - skin) ** 2).sum(axis=1)) < 15
    else:
        hue = np.degrees(np.arctan2(px[:, 2], px[:, 1])) - float(np.degrees(np.arctan2(skin[2], skin[1])))
        dhue = np.abs((hue + 180) % 360 - 180)
        scalp = (dhue < 15) & (C > 0.6 * cs) & (C < 1.6 * cs) & (L > skin[0] - 15) & (L < skin[0] + 30)
    dark = (L < 45) & (C < 25)      # dark hair, or a dark hat: colour cannot tell those apart
    hair = temple_hair_lab(ctx)
    if hair is not None:
        # The person's own hair, seen beside the temples: grey/white or dyed hair on top is hair;
        # a hat of another colour than that hair is not.
        same = np.sqrt(((px - hair) ** 2).sum(axis=1)) < 15
        ch = float(np.hypot(hair[1], hair[2]))
        if ch >= 8:
            # Coloured (blond, brown, red, dyed) hair: lit from above the top is lighter and paler than
            # at the shaded sides, but keeps its hue.
            hue = np.degrees(np.arctan2(px[:, 2], px[:, 1])) - float(np.degrees(np.arctan2(hair[2], hair[1])))
            dhue = np.abs((hue + 180) % 360 - 180)
            same |= (C >= 8) & (dhue < 15) & (C > 0.45 * ch) & (C < 2.2 * ch) & (np.abs(L - hair[0]) < 40)
        return dark | scalp | same
    # No hair beside the face (short hair, hood): fair/brown hair is unsaturated and yellowish.
    return dark | scalp | ((C < 30) & (L < 75) & (px[:, 2] > 5))


def head_cover_features(ctx: Context) -> dict | None:
    """Measures of the head region above the hairline.

    ``height``: (eye − crown) / (chin − eye); a hat raises the crown. ``unhair``: share of the head
    top (person mask between crown and forehead) that is neither dark, nor scalp, nor like the
    person's own hair beside the temples (:func:`hair_like`). ``width``: extent of the person mask
    through the head just above the forehead / face width (brims, hoods)."""
    a = ctx.a
    g = a.geometry_local
    lm = a.landmarks
    if g is None or a.mask is None or ctx.skin_lab is None:
        return None
    h, w = a.mask.shape
    fore = float(lm[an.FOREHEAD, 1])
    height = (g.eye_y - g.crown_y) / max(g.chin_y - g.eye_y, 1.0)
    px = _head_pixels(ctx, g.centre_x - 0.45 * g.face_width, max(0.0, g.crown_y),
                      g.centre_x + 0.45 * g.face_width, fore - 0.05 * g.face_width)
    unhair = float(1.0 - hair_like(ctx, px).mean()) if px.shape[0] >= 20 else None
    yb = int(np.clip(fore - 0.1 * g.face_width, 0, h - 1))
    # Only around the head: shoulders or a neighbour further out are not a brim.
    c0, c1 = int(max(0, g.centre_x - 1.5 * g.face_width)), int(min(w, g.centre_x + 1.5 * g.face_width))
    row = np.zeros(w, bool)
    row[c0:c1] = a.mask[yb, c0:c1] > 0.5
    # Only the run of mask through the head's centre: a separate blob (a neighbour, a mask error) is no brim.
    cx = int(np.clip(g.centre_x, 0, w - 1))
    if row[cx]:
        off = np.flatnonzero(~row[cx:])
        right = cx + (off[0] if off.size else w - cx) - 1
        off = np.flatnonzero(~row[:cx + 1][::-1])
        left = cx - (off[0] if off.size else cx + 1) + 1
        width = float((right - left + 1) / g.face_width)
    else:
        width = None
    return {"height": float(height), "unhair": unhair, "width": width}


def temple_hair_lab(ctx: Context) -> np.ndarray | None:
    """Median L*a*b* of the hair beside the temples (person mask just outside the face oval, from the
    brows down to the eyes, skin-coloured pixels left out), or None where none shows (short or no
    hair, turned head). A hood or headscarf shows there too: then it counts as "the hair"."""
    g = ctx.a.geometry_local
    fw = g.face_width
    brow = float(np.mean(ctx.a.landmarks[list(an.BROW_R + an.BROW_L), 1]))
    parts = []
    for x0, x1 in ((g.face_left - 0.12 * fw, g.face_left + 0.03 * fw), (g.face_right - 0.03 * fw, g.face_right + 0.12 * fw)):
        px = _head_pixels(ctx, x0, brow - 0.1 * fw, x1, brow + 0.3 * fw)
        if px.shape[0]:
            px = px[np.sqrt(((px - ctx.skin_lab) ** 2).sum(axis=1)) >= 15]   # not skin: ears, temples
        if px.shape[0] >= 8:
            parts.append(px)
    if not parts:
        return None
    return np.median(np.concatenate(parts), axis=0)


def head_cover_score(f: dict, *, limit: float) -> float:
    """Weighted evidence (TUCAI, tuned with bench/photo_eval.py): the head top's colour (``unhair``) and
    the head outline (tall: ``height``, wide above the forehead: ``width``). Big hair is tall and wide
    too, so the outline alone stays below ``limit``: it takes some colour evidence on top to refuse."""
    s = 0.0
    if f["unhair"] is not None:
        s += 0.8 * f["unhair"]
    shape = 0.4 * float(np.clip((f["height"] - 1.35) / 0.5, 0, 1))
    if f["width"] is not None:
        shape += 0.4 * float(np.clip((f["width"] - 1.35) / 0.4, 0, 1))
    return s + min(shape, 0.9 * limit)


def check_head_cover(ctx: Context) -> CheckResult:
    lim = ctx.profile.head_cover_max
    fail = ("请摘下帽子、头巾等头部遮挡物", "Take off the hat, cap, hood or headscarf")
    passed = ("未见头部遮挡", "No head covering")
    if not ctx.has_face:
        return result("head.cover", None, None, lim, fail=fail, passed=passed, unmeasured=NO_FACE, heuristic=True)
    f = head_cover_features(ctx)
    if f is None:
        return result("head.cover", None, None, lim, fail=fail, passed=passed, heuristic=True)
    v = head_cover_score(f, limit=lim)
    return result("head.cover", v <= lim, round(v, 3), lim, fail=fail, passed=passed, heuristic=True)


def check_hair_eyebrows(ctx: Context) -> CheckResult:
    lim = ctx.profile.hair_eyebrows_max
    # Dark hair and a dark cap's brim look alike here: the advice names both.
    fail = ("眉毛被头发或帽檐遮挡：请把刘海拨开，摘下帽子", "Hair or a brim covers the eyebrows: move the fringe aside, take off any cap")
    passed = ("未见头发遮挡眉毛", "No hair over the eyebrows")
    if not ctx.has_face or ctx.skin_lab is None:
        return result("hair.eyebrows", None, None, lim, fail=fail, passed=passed, unmeasured=NO_FACE, heuristic=True)
    lm = ctx.a.landmarks
    fracs = []
    for brow, eye, cheek in ((an.BROW_R, an.EYE_R, an.CHEEK_PATCH_R), (an.BROW_L, an.EYE_L, an.CHEEK_PATCH_L)):
        # Skin on the brow's own side: under side light the shaded forehead is as much darker than the
        # lit cheek as hair would be (lighting.balance reports that), but not darker than its own cheek.
        side = ctx.poly_mask(cheek)
        skin_L = float(np.median(ctx.roi_lab[..., 0][side])) if side.sum() >= 10 else float(ctx.skin_lab[0])
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
        fracs.append(float(np.mean(ctx.lab_at(x0, y0, x1, y1)[..., 0] < skin_L - ctx.profile.hair_darker_l)))
    if len(fracs) < 2:
        return result("hair.eyebrows", None, None, lim, fail=fail, passed=passed, heuristic=True)
    v = max(fracs)
    return result("hair.eyebrows", v <= lim, round(v, 3), lim, fail=fail, passed=passed, heuristic=True)


