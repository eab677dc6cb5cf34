"""clothing.color (forbidden hues on a blue background; too close to the background) and
shoulders.level, from the person mask below the chin."""

from __future__ import annotations

import math

import numpy as np

from tucai.photo.checks._base import NO_FACE, CheckResult, Context, ciede2000, result, to_lab
from tucai.photo.checks.background import background_median

HUE_ZH = {"blue": "蓝色", "yellow": "黄色", "green": "绿色", "purple": "紫色"}


def clothing_lab(ctx: Context) -> np.ndarray | None:
    a = ctx.a
    g = a.geometry_local
    win = ctx.window
    if g is None or a.mask is None or win is None:
        return None
    h, w = a.mask.shape
    fw = g.face_width
    y0 = int(g.chin_y + 0.35 * fw)          # below the neck
    y1 = int(min(win[3], h, g.chin_y + 1.3 * fw))
    x0, x1 = int(max(win[0], 0, g.centre_x - 1.2 * fw)), int(min(win[2], w, g.centre_x + 1.2 * fw))
    if y1 - y0 < 4 or x1 - x0 < 4:
        return None
    m = a.mask[y0:y1, x0:x1] > 0.7
    if m.sum() < max(50, 0.02 * fw * fw):
        return None
    # Every other row and column: a median of a shirt needs no more (and costs a quarter). Only the
    # shirt pixels are converted to Lab (the conversion is per pixel, so this changes no value).
    px = a.rgb[y0:y1:2, x0:x1:2][m[::2, ::2]]
    if not len(px):
        return None
    return np.median(to_lab(px[None]).reshape(-1, 3), axis=0)


def hue_name(lab: np.ndarray, ctx: Context) -> str | None:
    C = math.hypot(lab[1], lab[2])
    if C < ctx.profile.clothing_chroma_min:
        return None
    h = math.degrees(math.atan2(lab[2], lab[1])) % 360
    for name, lo, hi in ctx.profile.clothing_hues:
        if lo <= h < hi:
            return name
    return None


def check_clothing(ctx: Context) -> CheckResult:
    p = ctx.profile
    lim = {"forbidden_on_blue": list(p.forbidden_clothing_hues), "delta_e_min": p.clothing_delta_e_min}
    passed = ("服装颜色合适", "Clothing colour fine")
    if not ctx.has_face:
        return result("clothing.color", None, None, lim, fail=passed, passed=passed, unmeasured=NO_FACE, heuristic=True)
    cl = clothing_lab(ctx)
    if cl is None:
        return result("clothing.color", None, None, lim, fail=passed, passed=passed, heuristic=True, unmeasured=(
            "画面中看不到上衣，无法测量（请拍到肩部）", "No clothing visible: cannot be measured (include the shoulders)"))
    hue = hue_name(cl, ctx)
    bg = background_median(ctx)
    de = None if bg is None else ciede2000(cl, bg)
    value = {"lab": [round(float(x), 1) for x in cl], "hue": hue, "delta_e_background": None if de is None else round(de, 2)}
    bg_name = ctx.cache.get("bg_name")
    blue_bg = bg_name == "blue" or (bg_name is None and p.preferred_background == "blue")
    if blue_bg and hue in p.forbidden_clothing_hues:
        return result("clothing.color", False, value, lim, passed=passed, heuristic=True, fail=(
            f"蓝色背景下不能穿{HUE_ZH.get(hue, hue)}上衣，请换深色或白色有领上衣",
            f"No {hue} tops on a blue background: change to a dark or white collared top"))
    if de is not None and de < p.clothing_delta_e_min:
        return result("clothing.color", False, value, lim, passed=passed, heuristic=True, fail=(
            "服装颜色与背景太接近，请换一件颜色反差明显的上衣",
            "The clothing is too close to the background colour: change to a contrasting top"))
    return result("clothing.color", True, value, lim, fail=passed, passed=passed, heuristic=True)


def check_shoulders(ctx: Context) -> CheckResult:
    lim = ctx.profile.shoulder_tilt_max_deg
    fail = ("双肩不平，请坐正、两肩放平", "Shoulders not level: sit upright with both shoulders level")
    passed = ("双肩水平", "Shoulders level")
    a = ctx.a
    g = a.geometry_local
    if not ctx.has_face or a.mask is None:
        return result("shoulders.level", None, None, lim, fail=fail, passed=passed, unmeasured=NO_FACE, heuristic=True)
    h, w = a.mask.shape
    fw = g.face_width
    win = ctx.window or (0, 0, w, h)
    # Outlines are read from the mouth line down, not from the chin: a shoulder raised (or nearer the
    # camera) can reach above the chin and must not be clipped there. An outline already at the mouth
    # line 0.75 face widths out is no shoulder, even a shrugged one: hair falling over the shoulder, a
    # collar or hood. Those columns are left out; a side with too few left cannot be measured.
    y_from = int(max(0, g.chin_y - 0.3 * fw))
    sides, hidden = [], False
    # Each side: the mask's top edge over a band of columns 0.75–1.05 face widths out (inside the photo),
    # summarised by its median height (one strand of hair on a shoulder does not tilt it).
    for sign in (-1, 1):
        xs = [int(round(g.centre_x + sign * k * fw)) for k in np.linspace(0.75, 1.05, 7)]
        xs = [x for x in xs if max(0, win[0]) <= x < min(w, win[2])]
        tops = []
        for x in xs:
            idx = np.flatnonzero(a.mask[y_from:, x] > 0.5)
            if idx.size and idx[0] == 0:
                hidden = True
            elif idx.size and y_from + idx[0] < h - max(2.0, ctx.profile.shoulder_edge_margin * fw):
                tops.append((x, y_from + idx[0]))
        if len(tops) < 3:
            break
        t = np.array(tops, float)
        sides.append((float(np.median(t[:, 0])), float(np.median(t[:, 1]))))
    if len(sides) < 2 and hidden:
        return result("shoulders.level", None, None, lim, fail=fail, passed=passed, heuristic=True, unmeasured=(
            "头发或衣领遮住肩部，无法测量（请把头发拢到肩后）",
            "Hair or a collar hides a shoulder: cannot be measured (put the hair behind the shoulders)"))
    if len(sides) < 2:
        return result("shoulders.level", None, None, lim, fail=fail, passed=passed, heuristic=True, unmeasured=(
            "画面中看不到双肩，无法测量", "Both shoulders not visible: cannot be measured"))
    (xl, yl), (xr, yr) = sides
    v = math.degrees(math.atan2(yr - yl, xr - xl))
    return result("shoulders.level", abs(v) <= lim, round(v, 1), lim, fail=fail, passed=passed, heuristic=True)
