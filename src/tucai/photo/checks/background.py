"""background.color (CIEDE2000 to the profile's allowed colours) and background.uniform
(lightness spread, gradient between regions, texture). Measured on the part of the background that
ends up in the cropped photo, away from the person's outline (around the head and shoulders where the
crop shows too little of it; ``value["area"]`` says which)."""

from __future__ import annotations

import cv2
import numpy as np

from tucai.photo.checks._base import (NO_FACE, WINDOW_WIDTH, CheckResult, Context, ciede2000, result, rgb_to_lab,
                                     to_lab)


def _backdrop(ctx: Context, box: tuple[int, int, int, int], lab: np.ndarray, f: float) -> np.ndarray | None:
    """Background pixels (bool, on ``lab``'s grid) of an analysis-px box, away from the person's outline;
    None where too little shows to judge."""
    x0, y0, x1, y1 = box
    size = (lab.shape[1], lab.shape[0])
    person = cv2.resize(ctx.a.mask[y0:y1, x0:x1], size, interpolation=cv2.INTER_LINEAR) > 0.1
    # Stay clear of the outline (hair strands, matting halo).
    k = max(3, round(0.06 * ctx.face_w * f)) | 1
    person = cv2.dilate(person.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    bg = ~person
    p = ctx.profile
    return bg if bg.sum() >= p.background_visible_min * bg.size and bg.sum() >= p.background_visible_min_px else None


def background_pixels(ctx: Context) -> dict | None:
    """The backdrop as it ends up in the cropped photo. Where the crop would show too little of it to
    judge (the student fills the frame), the backdrop around the head and shoulders instead: that is
    what stands behind the student and what the photographer has to fix."""
    if "bg" in ctx.cache:
        return ctx.cache["bg"]
    a = ctx.a
    win = ctx.window
    out = None
    if win is not None and a.mask is not None:
        bg = _backdrop(ctx, win, ctx.window_lab, ctx.window_small[1])
        if bg is not None:
            out = {"lab": ctx.window_lab, "bg": bg, "area": "crop" if ctx.cache.get("window_is_crop") else "around_head"}
        else:
            g = a.geometry_local
            h, w = a.mask.shape
            fw = g.face_width
            box = (int(max(0, g.centre_x - 1.6 * fw)), int(max(0, g.crown_y - 0.5 * fw)),
                   int(min(w, g.centre_x + 1.6 * fw)), int(min(h, g.chin_y + 1.2 * fw)))
            if box != tuple(win) and box[2] - box[0] >= 8 and box[3] - box[1] >= 8:
                f = WINDOW_WIDTH / (box[2] - box[0])    # the same width as the crop's: texture is per px
                small = cv2.resize(a.rgb[box[1]:box[3], box[0]:box[2]],
                                   (WINDOW_WIDTH, max(8, round((box[3] - box[1]) * f))),
                                   interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
                lab = to_lab(small)
                bg = _backdrop(ctx, box, lab, f)
                if bg is not None:
                    out = {"lab": lab, "bg": bg, "area": "around_head"}
    ctx.cache["bg"] = out
    return out


def background_median(ctx: Context) -> np.ndarray | None:
    b = background_pixels(ctx)
    if b is None:
        return None
    if "bg_median" not in ctx.cache:
        # Every other row/column is plenty for a median of a backdrop (and 4× cheaper).
        ctx.cache["bg_median"] = np.median(b["lab"][::2, ::2][b["bg"][::2, ::2]], axis=0)
    return ctx.cache["bg_median"]


def check_color(ctx: Context) -> CheckResult:
    p = ctx.profile
    lim = {"delta_e_max": p.background_delta_e_max, "allowed": [bg.name for bg in p.backgrounds]}
    passed = ("背景颜色符合要求", "Background colour allowed")
    pref = p.background(p.preferred_background)
    fail = (f"背景颜色不符合要求，请使用规定的背景（推荐 RGB{pref.rgb}）",
            f"Background colour not allowed: use the required backdrop (RGB{pref.rgb} preferred)")
    if not ctx.has_face:
        return result("background.color", None, None, lim, fail=fail, passed=passed, unmeasured=NO_FACE)
    if ctx.window is not None and ctx.monochrome:
        return result("background.color", False, {"monochrome": True}, lim, passed=passed, fail=(
            "黑白照片：证件照须为彩色照片，请用彩色模式拍摄", "A black-and-white photo: it must be in colour (set the camera to colour)"))
    if ctx.face_l is not None and not p.exposure_face_l.contains(ctx.face_l):
        # A dark photo turns the light-blue backdrop navy, a bright one white: the exposure may be all that is wrong.
        fail = ("背景颜色不符合要求，但曝光也不正常：请先调整曝光，再检查背景",
                "Background colour off, but so is the exposure: fix the exposure first, then check the backdrop")
    med = background_median(ctx)
    if med is None:
        return result("background.color", None, None, lim, fail=fail, passed=passed, unmeasured=(
            "背景露出太少，无法测量", "Too little background visible: cannot be measured"))
    dists = {bg.name: ciede2000(med, rgb_to_lab(bg.rgb)) for bg in p.backgrounds}
    name = min(dists, key=dists.get)
    ctx.cache["bg_name"] = name if dists[name] <= p.background_delta_e_max else None
    value = {"nearest": name, "delta_e": round(dists[name], 2),
             "lab": [round(float(x), 1) for x in med], "area": background_pixels(ctx)["area"]}
    return result("background.color", dists[name] <= p.background_delta_e_max, value, lim, fail=fail, passed=passed)


def uniform_features(ctx: Context) -> dict | None:
    b = background_pixels(ctx)
    if b is None:
        return None
    lab, bg = b["lab"], b["bg"]
    L = lab[..., 0]
    sub = bg[::2, ::2]                         # percentiles/medians on every other row and column
    lab_sub = lab[::2, ::2][sub]
    p5, p95 = np.percentile(lab_sub, (5, 95), axis=0)
    spread = float((p95[0] - p5[0]) / 2)
    # Gradient/shadow: median L* of the background in a 3×3 grid, max − min over populated cells.
    h, w = L.shape
    cells = []
    for i in range(3):
        for j in range(3):
            sl = (slice(i * h // 3, (i + 1) * h // 3), slice(j * w // 3, (j + 1) * w // 3))
            m = bg[sl]
            if m.sum() >= 0.15 * m.size and m.sum() >= 20:
                cells.append(float(np.median(L[sl][::2, ::2][m[::2, ::2]])))
    gradient = float(max(cells) - min(cells)) if len(cells) >= 2 else 0.0
    # Texture: mean gradient magnitude where the 3×3 neighbourhood is all background.
    gx = cv2.Sobel(L, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(L, cv2.CV_32F, 0, 1, ksize=3) / 8
    inner = cv2.erode(bg.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    mag = np.hypot(gx, gy)[inner]
    texture = float(np.mean(mag)) if mag.size else 0.0
    chroma_spread = float(np.mean(p95[1:] - p5[1:]) / 2)
    return {"spread": spread, "gradient": gradient, "texture": texture, "chroma_spread": chroma_spread}


def check_uniform(ctx: Context) -> CheckResult:
    p = ctx.profile
    lim = {"spread": p.background_uniform_max, "gradient": p.background_gradient_max,
           "texture": p.background_texture_max, "chroma_spread": p.background_chroma_spread_max}
    passed = ("背景均匀", "Background uniform")
    if not ctx.has_face:
        return result("background.uniform", None, None, lim, fail=passed, passed=passed, unmeasured=NO_FACE,
                      heuristic=True)
    f = uniform_features(ctx)
    if f is None:
        return result("background.uniform", None, None, lim, fail=passed, passed=passed, heuristic=True, unmeasured=(
            "背景露出太少，无法测量", "Too little background visible: cannot be measured"))
    value = {k: round(v, 2) for k, v in f.items()} | {"area": background_pixels(ctx)["area"]}
    if f["texture"] > p.background_texture_max or f["chroma_spread"] > p.background_chroma_spread_max:
        fail = ("背景杂乱，请使用纯色背景布并清除背景中的物品",
                "Cluttered background: use the plain backdrop, nothing behind the student")
        ok = False
    elif f["gradient"] > p.background_gradient_max:
        fail = ("背景有阴影或明暗渐变，请让学生离背景远一些并均匀照亮背景",
                "Shadow or gradient on the background: move the student away from it and light it evenly")
        ok = False
    elif f["spread"] > p.background_uniform_max:
        fail = ("背景不均匀，请检查背景布和灯光", "Background not uniform: check the backdrop and the lights")
        ok = False
    else:
        fail, ok = passed, True
    return result("background.uniform", ok, value, lim, fail=fail, passed=passed, heuristic=True)
