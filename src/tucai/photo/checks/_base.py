"""What every check returns, and the per-photo context the checks share (computed lazily, once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import cv2
import numpy as np

from tucai.photo import analysis as an
from tucai.photo.analysis import Analysis
from tucai.photo.resample import area_shrink
from tucai.photo.spec import Profile


@dataclass
class CheckResult:
    """One check on one photo. ``ok`` is None when the photo does not allow the measurement."""

    id: str
    ok: bool | None
    value: Any
    limit: Any
    message_zh: str
    message_en: str
    heuristic: bool = False

    def as_dict(self) -> dict:
        return {"id": self.id, "ok": self.ok, "value": _jsonable(self.value), "limit": _jsonable(self.limit),
                "message_zh": self.message_zh, "message_en": self.message_en, "heuristic": self.heuristic}


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else round(float(v), 4)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def result(id: str, ok: bool | None, value: Any, limit: Any, *, fail: tuple[str, str], passed: tuple[str, str],
           unmeasured: tuple[str, str] | None = None, heuristic: bool = False) -> CheckResult:
    """Pick the message for the outcome: actionable advice on failure, what was checked on success,
    why it could not be measured otherwise (a check that cannot measure never passes silently)."""
    if ok is None:
        zh, en = unmeasured or ("无法在此照片上测量", "Cannot be measured on this photo")
    elif ok:
        zh, en = passed
    else:
        zh, en = fail
    return CheckResult(id, None if ok is None else bool(ok), value, limit, zh, en, heuristic)


WINDOW_WIDTH = 240  # background, contrast: measured on the cropped photo at this width
WINDOW_MAX_ASPECT = 4
ROI_FACE_PX = 160   # face width of the ROI copy the skin/exposure measures use (speed, not precision)

NO_FACE = ("未检测到单一人脸，无法测量", "No single face found: cannot be measured")


@dataclass(eq=False)
class Context:
    """Everything the checks read about one photo."""

    a: Analysis
    profile: Profile
    cache: dict = field(default_factory=dict)

    @property
    def has_face(self) -> bool:
        return len(self.a.faces) == 1 and self.a.landmarks is not None and self.a.geometry_local is not None

    @cached_property
    def lab(self) -> np.ndarray:
        """CIE L*a*b* of the whole analysis image (L 0..100), float32. The checks use :meth:`lab_at`
        on the regions they need instead (a full conversion costs more than all checks together)."""
        return to_lab(self.a.rgb)

    def lab_at(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """L*a*b* of a region (analysis px, clipped to the image), cached per region."""
        h, w = self.a.rgb.shape[:2]
        key = ("lab", max(0, x0), max(0, y0), min(w, x1), min(h, y1))
        if key not in self.cache:
            _, a0, b0, a1, b1 = key
            self.cache[key] = to_lab(self.a.rgb[b0:b1, a0:a1])
        return self.cache[key]

    @cached_property
    def grey(self) -> np.ndarray:
        return cv2.cvtColor(self.a.rgb, cv2.COLOR_RGB2GRAY)

    @cached_property
    def roi(self) -> tuple[int, int, int, int]:
        """The face's neighbourhood (face oval, brows, a strip of forehead), where face masks live."""
        h, w = self.a.rgb.shape[:2]
        pts = self.a.landmarks[:, :2]
        fw = float(pts[:, 0].max() - pts[:, 0].min())
        x0, y0 = pts.min(axis=0) - (0.1 * fw, 0.4 * fw)
        x1, y1 = pts.max(axis=0) + 0.1 * fw
        return int(max(0, x0)), int(max(0, y0)), int(min(w, x1 + 1)), int(min(h, y1 + 1))

    @cached_property
    def roi_scale(self) -> float:
        """The ROI is measured on a copy with the face at most ROI_FACE_PX wide (medians need no more)."""
        return min(1.0, ROI_FACE_PX / max(1.0, self.face_w))

    @cached_property
    def roi_rgb(self) -> np.ndarray:
        x0, y0, x1, y1 = self.roi
        crop = self.a.rgb[y0:y1, x0:x1]
        f = self.roi_scale
        if f >= 1.0:
            return crop
        # Exact INTER_AREA here (not :func:`shrink`): exposure counts clipped pixels of this copy, and the
        # 2:1 path's slight extra blur lowers that count.
        return cv2.resize(crop, (max(1, round((x1 - x0) * f)), max(1, round((y1 - y0) * f))),
                          interpolation=cv2.INTER_AREA)

    @cached_property
    def roi_lab(self) -> np.ndarray:
        return to_lab(self.roi_rgb)

    def poly_mask(self, idx, *, dilate: int = 0) -> np.ndarray:
        """Filled convex hull of landmarks ``idx`` on the ROI copy (index ``roi_lab``/``roi_rgb`` with it);
        cached (the cheek patches serve skin, lighting and hair)."""
        key = ("poly", idx, dilate)
        if key not in self.cache:
            self.cache[key] = self._poly_mask(idx, dilate)
        return self.cache[key]

    def _poly_mask(self, idx, dilate: int) -> np.ndarray:
        x0, y0, _, _ = self.roi
        h, w = self.roi_rgb.shape[:2]
        m = np.zeros((h, w), np.uint8)
        pts = np.round((self.a.pts(idx) - (x0, y0)) * self.roi_scale).astype(np.int32)
        cv2.fillPoly(m, [cv2.convexHull(pts)], 1)
        if dilate > 0:
            m = cv2.dilate(m, np.ones((dilate, dilate), np.uint8))
        return m.astype(bool)

    def outside(self, idx=None) -> float:
        """Share of the face-mesh points ``idx`` (all when None) that lie outside the picture: the mesh
        extrapolates a face cut by the frame, and what it draws there was never seen."""
        h, w = self.a.rgb.shape[:2]
        p = self.a.landmarks if idx is None else self.a.landmarks[list(idx)]
        return float(((p[:, 0] < 0) | (p[:, 0] > w - 1) | (p[:, 1] < 0) | (p[:, 1] > h - 1)).mean())

    @cached_property
    def eyes_cut(self) -> bool:
        """Whether a point of either eye opening lies outside the picture (eyes, tint and glare read there)."""
        return self.outside(an.EYE_R_CONTOUR + an.EYE_L_CONTOUR) > 0

    def feature_contrast(self, idx) -> float | None:
        """L* spread (95th − 5th percentile) inside the landmarks ``idx`` (an eye opening, the lips): an
        open or closed eye, lips, show lashes, iris, lip line; a hand, a mask or a patch over them is flat.
        None where the region is too small to read."""
        key = ("contrast", idx)
        if key not in self.cache:
            v = self.roi_lab[..., 0][self.poly_mask(idx)]
            self.cache[key] = float(np.diff(percentiles(v, (5, 95)))[0]) if v.size >= 6 else None
        return self.cache[key]

    def covered(self, *regions) -> bool:
        """Whether any of the landmark regions shows too little contrast to be the feature itself."""
        lim = self.profile.feature_contrast_min
        return any((c := self.feature_contrast(idx)) is not None and c < lim for idx in regions)

    @cached_property
    def face_l(self) -> float | None:
        """Median L* of the face skin (face oval on the ROI copy), None where too little of it shows."""
        L = self.roi_lab[..., 0][self.face_mask]
        return float(np.median(L)) if L.size >= 50 else None

    @cached_property
    def monochrome(self) -> bool:
        """A black-and-white photo: hardly any chroma anywhere in the part that ends up in the photo."""
        lim = self.profile.monochrome_chroma_max
        if self.skin_lab is not None and float(np.hypot(self.skin_lab[1], self.skin_lab[2])) >= lim:
            return False            # coloured skin: a colour photo (the usual case, no pass over the picture)
        lab = self.window_lab[::2, ::2]
        c = np.hypot(lab[..., 1], lab[..., 2])
        return float(percentiles(c, (99,))[0]) < lim

    @cached_property
    def face_mask(self) -> np.ndarray:
        return self.poly_mask(an.FACE_OVAL)

    @cached_property
    def face_w(self) -> float:
        g = self.a.geometry_local
        return g.face_width if g else 0.0

    @cached_property
    def skin_lab(self) -> np.ndarray | None:
        """Median L*a*b* of both cheek patches (the skin reference for tint, hair, head cover)."""
        m = self.poly_mask(an.CHEEK_PATCH_R) | self.poly_mask(an.CHEEK_PATCH_L)
        if m.sum() < 20:
            return None
        return np.median(self.roi_lab[m], axis=0)

    @cached_property
    def window_small(self) -> tuple[np.ndarray, float] | None:
        """The window (or the whole image without a face) area-resized to WINDOW_WIDTH wide, and the factor."""
        x0, y0, x1, y1 = self.window or (0, 0, self.a.rgb.shape[1], self.a.rgb.shape[0])
        f = WINDOW_WIDTH / max(1, x1 - x0)      # always this width: texture is measured per px of it
        # ... except for a strip with no face in it (a 1 px wide image would become 240 × 245,760 px):
        # at most WINDOW_MAX_ASPECT times as high as wide.
        f = min(f, WINDOW_MAX_ASPECT * WINDOW_WIDTH / max(1, y1 - y0))
        size = (max(1, round((x1 - x0) * f)), max(8, round((y1 - y0) * f)))
        crop = self.a.rgb[y0:y1, x0:x1]
        return (area_shrink(crop, size) if f < 1 else cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR)), f

    @cached_property
    def window_lab(self) -> np.ndarray:
        return to_lab(self.window_small[0])

    @cached_property
    def window(self) -> tuple[int, int, int, int] | None:
        """The part of the analysis image that ends up in the photo (the crop plan), or a head-and-
        shoulders window around the face when no crop is possible; (x0, y0, x1, y1) analysis px."""
        g = self.a.geometry_local
        if g is None:
            return None
        h, w = self.a.rgb.shape[:2]
        from tucai.photo.checks.framing import plan

        p, _ = plan(self)
        self.cache["window_is_crop"] = p is not None
        if p is not None:
            s = self.a.scale
            box = (p.x0 * s, p.y0 * s, p.x1 * s, p.y1 * s)
        else:
            fw = g.face_width
            box = (g.centre_x - 1.6 * fw, g.crown_y - 0.5 * fw, g.centre_x + 1.6 * fw, g.chin_y + 1.2 * fw)
        x0, y0 = int(max(0, box[0])), int(max(0, box[1]))
        x1, y1 = int(min(w, box[2])), int(min(h, box[3]))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        return x0, y0, x1, y1


def ciede2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference of two L*a*b* colours (Sharma, Wu, Dalal 2005)."""
    L1, a1, b1 = (float(x) for x in lab1)
    L2, a2, b2 = (float(x) for x in lab2)
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    Cm = (C1 + C2) / 2
    G = 0.5 * (1 - np.sqrt(Cm**7 / (Cm**7 + 25.0**7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dLp, dCp = L2 - L1, C2p - C1p
    if C1p * C2p == 0:
        dhp = 0.0
    elif abs(h2p - h1p) <= 180:
        dhp = h2p - h1p
    elif h2p - h1p > 180:
        dhp = h2p - h1p - 360
    else:
        dhp = h2p - h1p + 360
    dHp = 2 * np.sqrt(C1p * C2p) * np.sin(np.radians(dhp / 2))
    Lpm, Cpm = (L1 + L2) / 2, (C1p + C2p) / 2
    if C1p * C2p == 0:
        hpm = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hpm = (h1p + h2p) / 2
    elif h1p + h2p < 360:
        hpm = (h1p + h2p + 360) / 2
    else:
        hpm = (h1p + h2p - 360) / 2
    T = (1 - 0.17 * np.cos(np.radians(hpm - 30)) + 0.24 * np.cos(np.radians(2 * hpm))
         + 0.32 * np.cos(np.radians(3 * hpm + 6)) - 0.20 * np.cos(np.radians(4 * hpm - 63)))
    dtheta = 30 * np.exp(-(((hpm - 275) / 25) ** 2))
    Rc = 2 * np.sqrt(Cpm**7 / (Cpm**7 + 25.0**7))
    Sl = 1 + 0.015 * (Lpm - 50) ** 2 / np.sqrt(20 + (Lpm - 50) ** 2)
    Sc, Sh = 1 + 0.045 * Cpm, 1 + 0.015 * Cpm * T
    Rt = -np.sin(np.radians(2 * dtheta)) * Rc
    return float(np.sqrt((dLp / Sl) ** 2 + (dCp / Sc) ** 2 + (dHp / Sh) ** 2 + Rt * (dCp / Sc) * (dHp / Sh)))


def percentiles(values: np.ndarray, qs) -> np.ndarray:
    """``np.percentile(values, qs)`` (default "linear" method, no NaNs), same float64 values, about a
    third faster: one ``np.partition`` on the needed order statistics, then numpy's own interpolation."""
    a = np.ascontiguousarray(values).ravel()
    n = a.size
    v = np.asarray(qs, np.float64) / 100 * (n - 1)
    lo = np.floor(v).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    p = np.partition(a, np.unique(np.concatenate([lo, hi])))
    g = v - lo
    below, above = p[lo], p[hi]
    d = np.subtract(above, below)
    # numpy's _lerp: from the nearer end, so that the result is monotonic and exact at g = 0 and 1.
    out = np.add(below, d * g)
    np.subtract(above, d * (1 - g), out=out, where=g >= 0.5)
    return out


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (L 0..100) of an RGB uint8 array, float32. One pass to a C-ordered float copy (a crop
    view needs no contiguous copy first), values identical to ``astype(float32) / 255``."""
    f = np.empty(rgb.shape, np.float32)
    np.multiply(rgb, np.float32(1.0 / 255.0), out=f, dtype=np.float32)
    return cv2.cvtColor(f, cv2.COLOR_RGB2Lab)


def rgb_to_lab(rgb: tuple[int, int, int]) -> np.ndarray:
    px = np.array([[rgb]], np.float32) / 255.0
    return cv2.cvtColor(px, cv2.COLOR_RGB2Lab)[0, 0]
