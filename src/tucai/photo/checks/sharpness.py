"""sharpness: is the face in focus, measured at a fixed face scale so photos compare.

Two measures on the face at the output's face width (never upscaled: low resolution is framing's
business):

- ``laplacian_var``: variance of the Laplacian, the classic focus measure. Film grain, sensor noise
  and halftone dots raise it, so a soft scanned print can still read as sharp.
- ``edge_blur_px``: the blur width of the face's strongest edges (eyes, lips, nostrils, face outline).
  For a step edge of contrast C blurred with a Gaussian of width σ the steepest slope is
  C / (σ·√(2π)), so σ = C / (√(2π)·slope), taken where the gradient is in the face's top 2 %. A
  3×3 median first takes grain and noise out (they make slopes steep without being edges). Heuristic.
"""

from __future__ import annotations

import cv2
import numpy as np

from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result
from tucai.photo.spec import CHSI

FAIL = ("照片模糊，请对准眼睛对焦并保持相机稳定", "The photo is blurred: focus on the eyes and hold the camera steady")
PASS = ("清晰", "Sharp")

_SQRT_2PI = float(np.sqrt(2 * np.pi))


def face_crop(ctx: Context) -> np.ndarray | None:
    """Grey face (eyebrows to chin) at the profile's mid face width, or native size if smaller."""
    g = ctx.a.geometry_local
    h, w = ctx.grey.shape
    x0, x1 = int(max(0, g.face_left)), int(min(w, g.face_right))
    y0, y1 = int(max(0, g.eye_y - 0.45 * g.face_width)), int(min(h, g.chin_y))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    crop = ctx.grey[y0:y1, x0:x1]
    f = min(1.0, ctx.profile.face_width.mid / (x1 - x0))
    if f < 1.0:
        crop = cv2.resize(crop, (max(8, round(crop.shape[1] * f)), max(8, round(crop.shape[0] * f))),
                          interpolation=cv2.INTER_AREA)
    return crop


def edge_blur_px(crop: np.ndarray, contrast_min: float = CHSI.sharpness_edge_contrast_min) -> float | None:
    """Median Gaussian blur width (px) of the strongest edges of a grey uint8 crop (see module doc); only
    edges with at least ``contrast_min`` grey levels over 7×7 count (weaker ones are skin texture)."""
    c = cv2.medianBlur(crop, 3)
    gx = cv2.Sobel(c, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(c, cv2.CV_32F, 0, 1, ksize=3)
    slope = cv2.magnitude(gx, gy) * (1.0 / 8)          # Sobel 3×3 weighs a unit step by 8
    k = np.ones((7, 7), np.uint8)
    contrast = cv2.subtract(cv2.dilate(c, k), cv2.erode(c, k))
    sub = slope[::2, ::2].ravel()                       # every other row/column is plenty for a percentile
    top = float(np.partition(sub, int(0.98 * (sub.size - 1)))[int(0.98 * (sub.size - 1))])
    # slope > 0.5 grey level/px: a flat crop makes ``top`` 0, and a zero slope would divide to infinity.
    sel = (slope >= top) & (slope > 0.5) & (contrast > contrast_min)
    if sel.sum() < 10:
        return None
    return float(np.median(contrast[sel].astype(np.float32) / (_SQRT_2PI * slope[sel])))


def face_sharpness(ctx: Context) -> dict | None:
    crop = face_crop(ctx)
    if crop is None:
        return None
    _, sd = cv2.meanStdDev(cv2.Laplacian(crop, cv2.CV_32F))
    return {"laplacian_var": float(sd[0, 0]) ** 2,
            "edge_blur_px": edge_blur_px(crop, ctx.profile.sharpness_edge_contrast_min)}


def check_sharpness(ctx: Context) -> CheckResult:
    p = ctx.profile
    lim = {"laplacian_var_min": p.sharpness_min, "edge_blur_max_px": p.sharpness_edge_blur_max_px}
    if not ctx.has_face:
        return result("sharpness", None, None, lim, fail=FAIL, passed=PASS, unmeasured=NO_FACE, heuristic=True)
    m = face_sharpness(ctx)
    if m is None:
        return result("sharpness", None, None, lim, fail=FAIL, passed=PASS, heuristic=True)
    ok = m["laplacian_var"] >= p.sharpness_min and (
        m["edge_blur_px"] is None or m["edge_blur_px"] <= p.sharpness_edge_blur_max_px)
    if ok and m["edge_blur_px"] is None:
        ok = None       # both measures must pass, and the edge one found no edges to measure
    value = {"laplacian_var": round(m["laplacian_var"], 1),
             "edge_blur_px": None if m["edge_blur_px"] is None else round(m["edge_blur_px"], 2)}
    return result("sharpness", ok, value, lim, fail=FAIL, passed=PASS, heuristic=True, unmeasured=(
        "面部找不到清晰的边缘，无法判断清晰度", "No distinct edges on the face: sharpness cannot be measured"))
