"""The high-level API the capture station and the workers call.

    from tucai.photo.pipeline import process
    r = process(jpeg_bytes_or_path, profile="chsi", normalize=True, filename="IMG_0042.JPG")
    r.verdict          # "pass" | "retake" | "error"
    r.report           # JSON-ready dict (docs/photo-report.md)
    r.normalized_jpeg  # 480×640 JPEG bytes, or None
    r.geometry         # FaceGeometry in original pixels, or None

``process`` never raises for a bad image: it returns verdict "error" with a stable code. Models load
once per process (first call, about a second; call :func:`warm_up` at start-up to take that out of the
first shot); the function is thread-safe (model calls are serialised per process). The report schema
is documented in docs/photo-report.md.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from tucai.photo import analysis, checks
from tucai.photo.analysis import warm_up
from tucai.photo.decode import PhotoError, load
from tucai.photo.geometry import FaceGeometry
from tucai.photo.report import build, verdict_for
from tucai.photo.spec import Profile, get_profile

log = logging.getLogger(__name__)

__all__ = ["ProcessResult", "process", "warm_up"]


@dataclass
class ProcessResult:
    verdict: str
    report: dict
    normalized_jpeg: bytes | None = None
    geometry: FaceGeometry | None = None
    checks: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict == "pass"

    @property
    def error_code(self) -> str | None:
        return (self.report.get("error") or {}).get("code")


def _error(code: str, zh: str, en: str) -> dict:
    return {"code": code, "message": zh, "message_en": en}


def _normalize(dec, geometry: FaceGeometry, profile: Profile) -> tuple[bytes | None, dict]:
    """Crop/encode with tucai.photo.normalize on a decode fine enough for the output (a reduced DCT
    decode of a 24 MP JPEG is usually enough: the crop only ever shrinks)."""
    from tucai.photo import normalize as nz

    d = nz.decode_denominator(geometry.face_width, profile)
    img, s = dec.at_scale(1.0 / d)
    try:
        n = nz.normalize(img, geometry.scaled(s), profile)
    except nz.NormalizeError as e:
        return None, {"error": e.as_dict()}
    crop = [round(v / s, 1) for v in n.crop]
    return n.jpeg, {"crop": crop, "scale": round(n.scale * s, 5), "quality": n.quality, "size_bytes": n.size_bytes,
                    "size_ok": n.size_ok, "width": profile.width, "height": profile.height,
                    "geometry": {k: round(getattr(n.geometry, k), 1) for k in
                                 ("crown_y", "eye_y", "eye_mid_x", "face_left", "face_right", "chin_y")}}


def process(source: bytes | str | Path, *, profile: str | Profile = "chsi", normalize: bool = True,
            filename: str | None = None) -> ProcessResult:
    t0 = time.perf_counter()
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    if filename is None and isinstance(source, (str, Path)):
        filename = str(source)
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = (now - since) * 1000
        return now

    try:
        dec = load(source)
    except PhotoError as e:
        timings["total"] = (time.perf_counter() - t0) * 1000
        rep = build(file=filename, profile=prof, verdict="error", error=e.as_dict(), timings_ms=timings)
        return ProcessResult("error", rep)
    except MemoryError:
        timings["total"] = (time.perf_counter() - t0) * 1000
        rep = build(file=filename, profile=prof, verdict="error", timings_ms=timings, error=_error(
            "decode.too_large", "图像尺寸或文件过大，已拒绝", "The image is too large (pixels or bytes); refused"))
        return ProcessResult("error", rep)
    except Exception:  # a decoder bug must not take the capture station down either
        log.exception("photo decoding failed for %s", filename)
        timings["total"] = (time.perf_counter() - t0) * 1000
        rep = build(file=filename, profile=prof, verdict="error", timings_ms=timings, error=_error(
            "decode.corrupt", "图像文件已损坏，无法读取", "The image file is corrupt"))
        return ProcessResult("error", rep)
    t = lap("decode", t0)
    try:
        a = analysis.analyse(dec, prof)
        t = lap("analyse", t)
        results, ctx = checks.run_checks(a, prof)
        t = lap("checks", t)
        verdict = verdict_for(results, prof)
        geometry = a.geometry if ctx.has_face else None
        jpeg, norm = None, None
        framing = next(c for c in results if c.id == "framing")
        if normalize and geometry is not None and framing.ok:
            jpeg, norm = _normalize(dec, geometry, prof)
            t = lap("normalize", t)
    except Exception:  # a bug must not take the capture station down: report it as an error verdict
        log.exception("photo analysis failed for %s", filename)
        timings["total"] = (time.perf_counter() - t0) * 1000
        rep = build(file=filename, profile=prof, verdict="error", timings_ms=timings, error=_error(
            "analysis.internal", "照片分析出错（程序错误），请重试或联系管理员",
            "Photo analysis failed (internal error); retry or contact the administrator"))
        return ProcessResult("error", rep)
    timings["total"] = (time.perf_counter() - t0) * 1000
    image = {"width": dec.original_size[0], "height": dec.original_size[1], "format": dec.format,
             "orientation": dec.orientation, "analysis_scale": round(dec.scale, 5)}
    size_reason = None
    if norm is not None and norm.get("size_ok") is False:
        # A file outside the profile's size window would be refused at the hand-off: not a pass.
        from tucai.photo.normalize import size_window_bytes

        lo_b, hi_b = size_window_bytes(prof)
        n = norm["size_bytes"]
        if n < lo_b:
            size_reason = ("normalize.size_window", f"规范化后的照片文件太小（{n} 字节，要求 {lo_b}–{hi_b} 字节）："
                           "画面细节太少，请检查对焦后重拍", f"The normalised file is too small ({n} bytes, {lo_b}–{hi_b} "
                           "required): too little detail — check the focus and retake")
        else:
            size_reason = ("normalize.size_window", f"规范化后的照片文件太大（{n} 字节，要求 {lo_b}–{hi_b} 字节）："
                           "画面噪点太多，请降低 ISO、增加灯光后重拍", f"The normalised file is too large ({n} bytes, {lo_b}–{hi_b} "
                           "required) even at the lowest quality: too much noise — lower the ISO, add light and retake")
        verdict = "retake"
    rep = build(file=filename, profile=prof, verdict=verdict, checks=results, timings_ms=timings, image=image,
                geometry=geometry, normalized=norm)
    if size_reason is not None:
        rep["retake_reasons"].append({"id": size_reason[0], "message_zh": size_reason[1], "message_en": size_reason[2]})
    return ProcessResult(verdict, rep, jpeg, geometry, results)
