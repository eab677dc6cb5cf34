"""exposure (face brightness and clipping), contrast, lighting.balance (half-shadowed face)."""

from __future__ import annotations

import cv2
import numpy as np

from tucai.photo.checks._base import NO_FACE, CheckResult, Context, percentiles, result


def check_exposure(ctx: Context) -> CheckResult:
    p = ctx.profile
    limit = {"face_l": [p.exposure_face_l.lo, p.exposure_face_l.hi], "clipped_max": p.clipped_max_fraction}
    passed = ("曝光正常", "Exposure fine")
    if not ctx.has_face:
        return result("exposure", None, None, limit, fail=passed, passed=passed, unmeasured=NO_FACE, heuristic=True)
    if ctx.face_l is None:
        return result("exposure", None, None, limit, fail=passed, passed=passed, heuristic=True)
    med = ctx.face_l
    # Blown out = all three channels saturated (a red channel at 250 on bright skin is normal); crushed = black.
    # cv2.inRange tests all channels at once, on the ROI image (no gather of the masked pixels: 10× faster).
    rgb = ctx.roi_rgb
    hi, lo = p.clip_level_high, p.clip_level_low
    bad = cv2.inRange(rgb, (hi, hi, hi), (255, 255, 255)) | cv2.inRange(rgb, (0, 0, 0), (lo, lo, lo))
    clipped = float(np.count_nonzero(bad[ctx.face_mask])) / np.count_nonzero(ctx.face_mask)
    value = {"face_l": round(med, 1), "clipped": round(clipped, 4)}
    if med < p.exposure_face_l.lo:
        fail = ("面部太暗，请增加灯光或曝光", "The face is too dark: add light or exposure")
    elif med > p.exposure_face_l.hi:
        fail = ("面部过亮，请减少灯光或曝光", "The face is too bright: reduce light or exposure")
    else:
        fail = ("面部有过曝或死黑区域，请调整灯光", "Parts of the face are blown out or black: adjust the lights")
    ok = p.exposure_face_l.contains(med) and clipped <= p.clipped_max_fraction
    return result("exposure", ok, value, limit, fail=fail, passed=passed, heuristic=True)


def check_contrast(ctx: Context) -> CheckResult:
    lim = ctx.profile.contrast_min
    fail = ("画面发灰、对比度不足，请检查灯光和镜头（避免逆光、雾化）",
            "Flat, washed-out picture: check the lights and the lens (no backlight or haze)")
    passed = ("对比度正常", "Contrast fine")
    # On a small copy of the part that ends up in the photo (the whole picture when there is no face).
    L = ctx.window_lab[..., 0]
    lo, hi = percentiles(L, (2, 98))
    v = float(hi - lo)
    return result("contrast", v >= lim, round(v, 1), lim, fail=fail, passed=passed, heuristic=True)


def check_lighting_balance(ctx: Context) -> CheckResult:
    lim = ctx.profile.lighting_balance_max
    fail = ("脸部一侧有阴影，请调整两侧灯光使面部受光均匀", "One side of the face is in shadow: balance the two lights")
    passed = ("面部光照均匀", "Even light on the face")
    if not ctx.has_face:
        return result("lighting.balance", None, None, lim, fail=fail, passed=passed, unmeasured=NO_FACE, heuristic=True)
    from tucai.photo import analysis as an

    L = ctx.roi_lab[..., 0]
    r = ctx.poly_mask(an.CHEEK_PATCH_R)
    l = ctx.poly_mask(an.CHEEK_PATCH_L)
    if r.sum() < 10 or l.sum() < 10:
        return result("lighting.balance", None, None, lim, fail=fail, passed=passed, heuristic=True)
    # Each cheek by its brighter part (70th percentile), not its median: hair over the side of the
    # face, a glasses frame or a smile fold darkens part of a patch (a third of one on the labelled
    # photos), a shadow from the light darkens all of it.
    lr, ll = (float(np.percentile(L[m], ctx.profile.lighting_cheek_percentile)) for m in (r, l))
    face = float(np.median(L[ctx.face_mask]))
    v = abs(lr - ll) / max(face, 1.0)
    return result("lighting.balance", v <= lim, round(v, 3), lim, fail=fail, passed=passed, heuristic=True)
