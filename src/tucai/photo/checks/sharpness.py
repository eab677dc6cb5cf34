"""sharpness: variance of the Laplacian over the face, at a fixed face scale so photos compare."""

from __future__ import annotations

import cv2

from tucai.photo.checks._base import NO_FACE, CheckResult, Context, result

FAIL = ("照片模糊，请对准眼睛对焦并保持相机稳定", "The photo is blurred: focus on the eyes and hold the camera steady")
PASS = ("清晰", "Sharp")


def face_sharpness(ctx: Context) -> float | None:
    g = ctx.a.geometry_local
    h, w = ctx.grey.shape
    x0, x1 = int(max(0, g.face_left)), int(min(w, g.face_right))
    y0, y1 = int(max(0, g.eye_y - 0.45 * g.face_width)), int(min(h, g.chin_y))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    crop = ctx.grey[y0:y1, x0:x1]
    # Measure at the output's face width, never upscaled (low resolution is framing's business).
    f = min(1.0, ctx.profile.face_width.mid / (x1 - x0))
    if f < 1.0:
        crop = cv2.resize(crop, (max(8, round(crop.shape[1] * f)), max(8, round(crop.shape[0] * f))),
                          interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(crop, cv2.CV_64F).var())


def check_sharpness(ctx: Context) -> CheckResult:
    lim = ctx.profile.sharpness_min
    if not ctx.has_face:
        return result("sharpness", None, None, lim, fail=FAIL, passed=PASS, unmeasured=NO_FACE, heuristic=True)
    v = face_sharpness(ctx)
    if v is None:
        return result("sharpness", None, None, lim, fail=FAIL, passed=PASS, heuristic=True)
    return result("sharpness", v >= lim, round(v, 1), lim, fail=FAIL, passed=PASS, heuristic=True)


