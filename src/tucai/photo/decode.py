"""Safe, fast image loading for the photo checks.

Large camera JPEGs are decoded with Pillow's ``draft()``: libjpeg scales the DCT by 1/2, 1/4 or 1/8
while decoding, so a 24 MP frame costs a fraction of a full decode. :class:`Decoded` keeps the factor
(``scale`` = decoded px per original px) so measurements map back to the original, and can decode the
original again at a finer scale for the normalised crop (:meth:`Decoded.region`).

Everything that is not a readable PNG/JPEG/TIFF is refused with :class:`PhotoError` and a stable code.
"""

from __future__ import annotations

import functools
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tucai.photo.errors import PhotoError
from tucai.photo.spec import DECODE_LIMITS, DecodeLimits

ACCEPTED_FORMATS = ("JPEG", "PNG", "TIFF", "MPO")  # MPO: JPEG with a second frame, from some cameras

# EXIF orientations 5..8 swap width and height.
_SWAPS_AXES = {5, 6, 7, 8}


def _err(code: str) -> PhotoError:
    zh, en = _MESSAGES[code]
    return PhotoError(code, zh, en)


_MESSAGES = {
    "decode.empty": ("文件为空", "The file is empty"),
    "decode.not_found": ("找不到文件", "File not found"),
    "decode.unreadable": ("无法读取该文件（是文件夹或没有读取权限）", "Cannot read this file (a folder, or no permission)"),
    "decode.unsupported_format": ("不支持的文件格式，请使用 JPEG、PNG 或 TIFF", "Unsupported format: use JPEG, PNG or TIFF"),
    "decode.corrupt": ("图像文件已损坏，无法读取", "The image file is corrupt"),
    "decode.truncated": ("图像文件不完整（传输中断？），请重新导入", "The image file is truncated; copy it again"),
    "decode.too_large": ("图像尺寸或文件过大，已拒绝", "The image is too large (pixels or bytes); refused"),
}

_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


@dataclass
class Decoded:
    """An image ready for analysis: ``rgb`` (H×W×3 uint8, EXIF orientation applied).

    ``scale`` is decoded pixels per original pixel (1, 1/2, 1/4, 1/8 from the DCT, times any resize);
    ``original_size`` is the (width, height) of the full-resolution, upright original."""

    rgb: np.ndarray
    scale: float
    original_size: tuple[int, int]
    format: str
    data: bytes
    orientation: int = 1
    # The DCT-reduced decode before the final resize (finer than ``rgb``), kept for the output crop.
    dct_rgb: np.ndarray | None = None
    dct_scale: float | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]

    def to_original(self, x: float, y: float) -> tuple[float, float]:
        return x / self.scale, y / self.scale

    def at_scale(self, need: float) -> tuple[np.ndarray, float]:
        """An upright RGB image of the whole photo with at least ``need`` px per original px (capped at
        full resolution), and its exact scale: the decode we already have when it is fine enough,
        else a new decode at the coarsest DCT scale that is."""
        need = min(need, 1.0)
        for img, s in ((self.rgb, self.scale), (self.dct_rgb, self.dct_scale)):
            if img is not None and s is not None and s >= need - 1e-9:
                return img, s
        return _decode_scaled(self.data, self.original_size, need, self.orientation)

    def region(self, box: tuple[float, float, float, float], out_size: tuple[int, int]) -> np.ndarray:
        """The crop ``box`` (left, top, right, bottom in ORIGINAL upright pixels, may reach outside the
        image: filled by edge replication) resized to ``out_size``, decoded at the coarsest DCT scale that
        still gives at least ``out_size`` pixels for that box (so a 24 MP JPEG is not decoded in full)."""
        left, top, right, bottom = box
        bw, bh = right - left, bottom - top
        need = max(out_size[0] / max(bw, 1e-6), out_size[1] / max(bh, 1e-6))  # decoded px per original px
        src, s = self.at_scale(need)
        # Affine crop+resize in one step, area-averaged when shrinking.
        import cv2

        sx = out_size[0] / (bw * s)
        sy = out_size[1] / (bh * s)
        x0, y0 = left * s, top * s
        if sx < 1 and sy < 1:
            # Shrink: take the crop at source resolution (clamped, with border), then INTER_AREA.
            ix0, iy0 = int(np.floor(x0)), int(np.floor(y0))
            ix1, iy1 = int(np.ceil(x0 + bw * s)), int(np.ceil(y0 + bh * s))
            h, w = src.shape[:2]
            pad = (max(0, -iy0), max(0, iy1 - h), max(0, -ix0), max(0, ix1 - w))
            crop = src[max(0, iy0):min(h, iy1), max(0, ix0):min(w, ix1)]
            if any(pad):
                crop = cv2.copyMakeBorder(crop, *pad, borderType=cv2.BORDER_REPLICATE)
            # Sub-pixel offset of the true box inside the integer crop is < 1 source px: negligible after shrink.
            return cv2.resize(crop, out_size, interpolation=cv2.INTER_AREA)
        m = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], dtype=np.float64)
        return cv2.warpAffine(src, m, out_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def read_source(source: bytes | bytearray | memoryview | str | Path, *, limits: DecodeLimits = DECODE_LIMITS) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        p = Path(source)
        try:
            size = p.stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            raise _err("decode.not_found") from None
        if size > limits.max_bytes:
            raise _err("decode.too_large")
        try:
            # At most one byte past the limit: a device or a pipe reports size 0 and may never end.
            with p.open("rb") as f:
                data = f.read(limits.max_bytes + 1)
        except (IsADirectoryError, PermissionError, OSError):
            raise _err("decode.unreadable") from None
    if not data:
        raise _err("decode.empty")
    if len(data) > limits.max_bytes:
        raise _err("decode.too_large")
    return data


def _open(data: bytes, limits: DecodeLimits) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own 89 MP; our limit is ``limits.max_pixels`` (checked below).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise _err("decode.too_large") from None
    except UnidentifiedImageError:
        if data.startswith(_MAGIC):
            raise _err("decode.corrupt") from None
        raise _err("decode.unsupported_format") from None
    except (OSError, ValueError, SyntaxError):
        raise _err("decode.corrupt") from None
    if im.format not in ACCEPTED_FORMATS:
        raise _err("decode.unsupported_format")
    w, h = im.size
    if w <= 0 or h <= 0:
        raise _err("decode.corrupt")
    if w * h > limits.max_pixels:
        raise _err("decode.too_large")
    return im


def _orientation(im: Image.Image) -> int:
    try:
        o = int(im.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block must not make a good photo unreadable
        return 1
    return o if 1 <= o <= 8 else 1


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Any mode → RGB uint8. Alpha is composited on white (a transparent cut-out has no background)."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im)
        if mode == "F" or mode == "I":
            a = a.astype(np.float64)
            hi = 65535.0 if a.max() > 255 else 255.0
            a = np.clip(a / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        else:
            a = (a.astype(np.uint16) >> 8).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(a[:, :, None], 3, axis=2))
    if mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
        mode = im.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, rgba)
    if im.mode != "RGB":
        im = im.convert("RGB")  # L, 1, CMYK (Pillow inverts Adobe CMYK JPEGs), YCbCr, LAB ...
    return np.asarray(im)


def _load_checked(im: Image.Image) -> None:
    """``im.load()`` with Pillow's errors mapped to our codes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im.load()
    except Image.DecompressionBombError:
        raise _err("decode.too_large") from None
    except OSError as e:
        if "truncated" in str(e).lower() or "premature" in str(e).lower():
            raise _err("decode.truncated") from None
        raise _err("decode.corrupt") from None
    except (ValueError, SyntaxError, MemoryError):
        raise _err("decode.corrupt") from None


def _load_pixels(im: Image.Image) -> np.ndarray:
    _load_checked(im)
    if im.format == "TIFF":
        # Newer Pillow turns a TIFF upright while loading it (and drops the tag); older releases do not.
        # exif_transpose after loading does it exactly once either way (our own orientation is 1 for TIFF).
        from PIL import ImageOps

        im = ImageOps.exif_transpose(im)
    try:
        return _to_rgb(im)
    except (OSError, ValueError) as e:
        # Pillow cannot convert some TIFF sample layouts (e.g. 16-bit RGB): let OpenCV read those.
        rgb = _cv2_fallback(im)
        if rgb is None:
            raise _err("decode.unsupported_format") from e
        return rgb


def _cv2_fallback(im: Image.Image) -> np.ndarray | None:
    import cv2

    data = getattr(im, "_tucai_data", None)
    if data is None:
        return None
    a = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if a is None:
        return None
    if a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    elif a.dtype != np.uint8:
        a = np.clip(a.astype(np.float64) * (255.0 if a.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    return cv2.cvtColor(a, cv2.COLOR_BGR2RGB)


def _apply_orientation(rgb: np.ndarray, orientation: int) -> np.ndarray:
    if orientation == 1:
        return rgb
    # The EXIF transforms (same as PIL.ImageOps.exif_transpose).
    ops = {
        2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1), 7: lambda a: np.rot90(a, -1)[::-1],
        8: lambda a: np.rot90(a, 1),
    }
    return np.ascontiguousarray(ops[orientation](rgb))


_CV2_REDUCED = {1: "IMREAD_COLOR", 2: "IMREAD_REDUCED_COLOR_2", 4: "IMREAD_REDUCED_COLOR_4", 8: "IMREAD_REDUCED_COLOR_8"}


def _denominator(need: float) -> int:
    """The coarsest DCT reduction (8, 4, 2, 1) that still gives at least ``need`` px per original px."""
    for d in (8, 4, 2):
        if 1.0 / d >= need - 1e-9:
            return d
    return 1


def _jpeg_fast(data: bytes, im: Image.Image, d: int) -> np.ndarray | None:
    """libjpeg-turbo through OpenCV (faster than Pillow here) for plain YCbCr/grey JPEGs that end with
    an EOI marker. Anything unusual (CMYK, no EOI = possibly truncated) goes through Pillow, which
    tells truncated from corrupt."""
    if im.format != "JPEG" or im.mode not in ("RGB", "L") or not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return None
    import cv2

    flag = getattr(cv2, _CV2_REDUCED[d]) | cv2.IMREAD_IGNORE_ORIENTATION
    # OpenCV ≥ 4.10 can have libjpeg write RGB directly (no BGR image and swap on 1.5 MP).
    rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", 0)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flag | rgb_flag)
    if img is None or img.ndim != 3:
        return None
    return img if rgb_flag else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


@functools.lru_cache(maxsize=8)
def _srgb_transform(icc: bytes):
    """A transform from an embedded RGB ICC profile to sRGB, or None where none is needed (an sRGB
    profile, a non-RGB or unreadable one). Cached: a camera sends the same profile with every shot."""
    from PIL import ImageCms

    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if src.profile.xcolor_space.strip() != "RGB" or "srgb" in ImageCms.getProfileDescription(src).lower():
            return None
        t = ImageCms.buildTransform(src, ImageCms.createProfile("sRGB"), "RGB", "RGB",
                                    renderingIntent=ImageCms.Intent.PERCEPTUAL)
        # Compact sRGB profiles under other names (Facebook's "c2", ...) change nothing: test a grid.
        grid = np.stack(np.meshgrid(*[np.arange(0, 256, 17, dtype=np.uint8)] * 3, indexing="ij"), -1).reshape(16, -1, 3)
        moved = np.asarray(ImageCms.applyTransform(Image.fromarray(grid, "RGB"), t)).astype(np.int16) - grid
        return None if int(np.abs(moved).max()) <= 1 else t
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError, AttributeError):
        return None     # an unreadable profile: the pixels as they are (what most viewers show too)


def _to_srgb(rgb: np.ndarray, im: Image.Image) -> np.ndarray:
    """Colours in sRGB: the checks compare them with sRGB references (the CHSI blue) and the output
    carries no profile. A photo in Adobe RGB (a camera setting) is converted; sRGB ones are untouched."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA", "RGBX"):
        return rgb
    t = _srgb_transform(bytes(icc))
    if t is None:
        return rgb
    from PIL import ImageCms

    return np.asarray(ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(rgb), "RGB"), t))


def _decode_at(data: bytes, im: Image.Image, need: float, orientation: int) -> np.ndarray:
    """Decode ``im`` (opened on ``data``) at the coarsest DCT scale ≥ ``need`` (JPEG; others in full),
    upright, in sRGB."""
    d = _denominator(need) if im.format in ("JPEG", "MPO") else 1
    rgb = _jpeg_fast(data, im, d)
    if rgb is None:
        if d > 1:
            raw_w, raw_h = im.size
            try:
                im.draft("RGB" if im.mode not in ("L", "CMYK") else im.mode,
                         (max(1, -(-raw_w // d)), max(1, -(-raw_h // d))))
            except (OSError, ValueError):
                pass
        rgb = _load_pixels(im)
    return _apply_orientation(_to_srgb(rgb, im), orientation)


def _decode_scaled(data: bytes, original_size: tuple[int, int], need_scale: float, orientation: int,
                   limits: DecodeLimits = DECODE_LIMITS) -> tuple[np.ndarray, float]:
    """Decode again at the coarsest DCT scale ≥ ``need_scale`` (JPEG) or in full (others)."""
    im = _open(data, limits)
    im._tucai_data = data  # type: ignore[attr-defined]
    rgb = _decode_at(data, im, need_scale, orientation)
    return rgb, rgb.shape[1] / original_size[0]


def load(source: bytes | str | Path, *, long_side: int | None = None, min_side: int | None = None,
         limits: DecodeLimits = DECODE_LIMITS) -> Decoded:
    """Decode ``source`` (path or bytes) to RGB uint8, EXIF orientation applied.

    ``long_side``: the analysis size (default ``spec.DECODE_LIMITS.analysis_long_side``): the DCT scale
    is the coarsest that keeps at least that many pixels on the long side, then an integer area
    reduction (fast) brings it to at most ``long_side``; the finer DCT decode is kept for the output
    crop (``Decoded.at_scale``). ``min_side``: at least this many pixels on the short side instead, no
    further reduction. ``long_side=0`` decodes in full."""
    data = read_source(source, limits=limits)
    im = _open(data, limits)
    im._tucai_data = data  # type: ignore[attr-defined]
    if im.format == "PNG":
        # Reading a PNG's EXIF decodes the image: do it here, where a corrupt stream is an error (inside
        # getexif the error would be swallowed and the half-decoded pixels kept).
        _load_checked(im)
    orientation = 1 if im.format == "TIFF" else _orientation(im)   # TIFF: see _load_pixels
    raw_w, raw_h = im.size
    ow, oh = (raw_h, raw_w) if orientation in _SWAPS_AXES else (raw_w, raw_h)
    if min_side is not None:
        need = min(1.0, min_side / min(ow, oh)) if min_side > 0 else 1.0
        target_long = None
    else:
        target_long = limits.analysis_long_side if long_side is None else long_side
        need = min(1.0, target_long / max(ow, oh)) if target_long and target_long > 0 else 1.0
    fmt = im.format or "?"
    rgb = _decode_at(data, im, need, orientation)
    if fmt not in ("JPEG", "MPO"):
        oh, ow = rgb.shape[:2]      # decoded in full and upright (a TIFF's size is only certain now)
    dct_rgb, dct_scale = None, None
    if target_long and max(rgb.shape[:2]) > target_long:
        import cv2

        dct_rgb, dct_scale = rgb, rgb.shape[1] / ow
        k = -(-max(rgb.shape[:2]) // target_long)           # integer reduction: OpenCV's fast area path
        rgb = cv2.resize(rgb, (max(1, rgb.shape[1] // k), max(1, rgb.shape[0] // k)), interpolation=cv2.INTER_AREA)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise _err("decode.corrupt")
    return Decoded(rgb=np.ascontiguousarray(rgb), scale=rgb.shape[1] / ow, original_size=(ow, oh), format=fmt,
                   data=data, orientation=orientation, dct_rgb=dct_rgb, dct_scale=dct_scale)


def load_full(source: bytes | str | Path) -> Decoded:
    """Full-resolution decode (no DCT reduction, no resize)."""
    return load(source, long_side=0)


__all__ = ["PhotoError", "Decoded", "load", "load_full", "read_source", "ACCEPTED_FORMATS"]
