"""Decoding: formats, modes, EXIF orientation, reduced-DCT scale and every refusal code."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tucai.photo import decode
from tucai.photo.decode import PhotoError, load
from tucai.photo.spec import DecodeLimits


def _gradient(w: int, h: int) -> np.ndarray:
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
    return np.stack([x + 0 * y, y + 0 * x, np.full((h, w), 90, np.float32)], axis=2).astype(np.uint8)


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _code(data, **kw) -> str:
    with pytest.raises(PhotoError) as e:
        load(data, **kw)
    assert e.value.message_zh and e.value.message_en
    return e.value.code


def test_large_jpeg_is_decoded_at_reduced_dct_scale_and_maps_back():
    rgb = np.full((3000, 4000, 3), 128, np.uint8)
    rgb[1000:1100, 2000:2100] = (255, 0, 0)     # a red square at a known original position
    data = _save(Image.fromarray(rgb), "JPEG", quality=92)
    d = load(data)
    assert d.original_size == (4000, 3000)
    assert max(d.size) <= 1024 and d.scale == pytest.approx(d.size[0] / 4000)
    assert d.dct_scale in (0.25, 0.5) and d.dct_rgb is not None      # the finer DCT decode is kept
    # The red square's centre, mapped back, lands where it was drawn.
    ys, xs = np.nonzero((d.rgb[..., 0] > 200) & (d.rgb[..., 1] < 80))
    ox, oy = d.to_original(xs.mean(), ys.mean())
    assert ox == pytest.approx(2050, abs=8) and oy == pytest.approx(1050, abs=8)
    # A crop of the original region comes out at the asked size, from a fine enough decode.
    crop = d.region((2000, 1000, 2100, 1100), (50, 50))
    assert crop.shape == (50, 50, 3) and crop[..., 0].mean() > 200 and crop[..., 1].mean() < 80


def test_at_scale_decodes_finer_only_when_needed():
    data = _save(Image.fromarray(_gradient(4000, 3000)), "JPEG", quality=90)
    d = load(data)
    img, s = d.at_scale(d.scale)
    assert img is d.rgb
    img, s = d.at_scale(0.5)
    assert s >= 0.5 and img.shape[1] == pytest.approx(4000 * s, abs=1)
    full, s = d.at_scale(1.0)
    assert s == 1.0 and full.shape[:2] == (3000, 4000)


def test_min_side_asks_for_a_finer_decode():
    data = _save(Image.fromarray(_gradient(4000, 3000)), "JPEG", quality=90)
    d = load(data, min_side=1400)
    assert min(d.size) >= 1400 and d.scale == 0.5


@pytest.mark.parametrize("orientation, expect_size, corner", [
    (1, (300, 200), "top_left"), (3, (300, 200), "bottom_right"), (6, (200, 300), "top_right"),
    (8, (200, 300), "bottom_left"),
])
def test_exif_orientation_is_applied(orientation, expect_size, corner):
    rgb = np.full((200, 300, 3), 200, np.uint8)
    rgb[:40, :40] = (255, 0, 0)                 # red marker in the stored image's top-left corner
    ex = Image.Exif()
    ex[0x0112] = orientation
    d = load(_save(Image.fromarray(rgb), "JPEG", quality=95, exif=ex))
    assert d.size == expect_size and d.original_size == expect_size and d.orientation == orientation
    h, w = d.rgb.shape[:2]
    patch = {"top_left": d.rgb[:20, :20], "bottom_right": d.rgb[h - 20:, w - 20:], "top_right": d.rgb[:20, w - 20:],
             "bottom_left": d.rgb[h - 20:, :20]}[corner]
    assert patch[..., 0].mean() > 200 and patch[..., 1].mean() < 80


def test_png_tiff_and_greyscale_are_accepted():
    rgb = _gradient(320, 240)
    for data in (_save(Image.fromarray(rgb), "PNG"), _save(Image.fromarray(rgb), "TIFF"),
                 _save(Image.fromarray(rgb), "TIFF", compression="tiff_lzw")):
        d = load(data)
        assert d.rgb.shape == (240, 320, 3) and np.abs(d.rgb.astype(int) - rgb).max() <= 1
    grey = load(_save(Image.fromarray(rgb[..., 0]), "JPEG", quality=95))
    assert grey.rgb.shape == (240, 320, 3) and np.abs(grey.rgb[..., 0].astype(int) - grey.rgb[..., 2]).max() == 0


def test_cmyk_jpeg_becomes_rgb():
    im = Image.new("CMYK", (120, 80), (0, 255, 255, 0))     # pure red in CMYK
    d = load(_save(im, "JPEG", quality=95))
    r, g, b = d.rgb.reshape(-1, 3).mean(axis=0)
    assert d.rgb.dtype == np.uint8 and r > 200 and g < 60 and b < 60


def test_16_bit_png_and_tiff_become_8_bit():
    a16 = (np.linspace(0, 65535, 256, dtype=np.float64)[None, :].repeat(64, 0)).astype(np.uint16)
    d = load(_save(Image.fromarray(a16), "PNG"))
    assert d.rgb.dtype == np.uint8 and d.rgb[0, 0, 0] == 0 and d.rgb[0, -1, 0] == 255
    assert d.rgb[0, 128, 0] == pytest.approx(128, abs=2)
    import cv2

    rgb16 = np.zeros((32, 48, 3), np.uint16)
    rgb16[..., 0] = 65535                        # red, 16 bits per sample (OpenCV writes BGR order)
    ok, buf = cv2.imencode(".tiff", rgb16[..., ::-1])
    assert ok
    d = load(buf.tobytes())
    assert d.rgb.dtype == np.uint8 and tuple(d.rgb[0, 0]) == (255, 0, 0)


def test_alpha_is_composited_on_white():
    rgba = np.zeros((50, 60, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:, :30, 3] = 255                        # left half opaque red, right half transparent
    d = load(_save(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert tuple(d.rgb[10, 5]) == (255, 0, 0) and tuple(d.rgb[10, 50]) == (255, 255, 255)
    la = Image.fromarray(np.dstack([np.full((20, 20), 10, np.uint8), np.zeros((20, 20), np.uint8)]), "LA")
    assert tuple(load(_save(la, "PNG")).rgb[5, 5]) == (255, 255, 255)


def test_paths_and_bytes_give_the_same_pixels(tmp_path):
    data = _save(Image.fromarray(_gradient(200, 100)), "PNG")
    p = tmp_path / "x.png"
    p.write_bytes(data)
    assert np.array_equal(load(p).rgb, load(data).rgb) and np.array_equal(load(str(p)).rgb, load(data).rgb)


def test_empty_and_missing(tmp_path):
    assert _code(b"") == "decode.empty"
    assert _code("/nonexistent/photo.jpg") == "decode.not_found"
    assert _code(tmp_path) == "decode.unreadable"          # a folder given where a file was meant


def test_unsupported_formats_are_refused():
    im = Image.fromarray(_gradient(40, 30))
    assert _code(_save(im, "GIF")) == "decode.unsupported_format"
    assert _code(_save(im, "BMP")) == "decode.unsupported_format"
    assert _code(b"%PDF-1.7 not an image at all") == "decode.unsupported_format"


def test_corrupt_jpeg_and_png_are_refused():
    jpeg = _save(Image.fromarray(_gradient(200, 100)), "JPEG", quality=90)
    assert _code(jpeg[:4] + b"\x00" * 200) == "decode.corrupt"          # JPEG magic, garbage after
    png = bytearray(_save(Image.fromarray(_gradient(200, 100)), "PNG"))
    png[29] ^= 0xFF                                                    # IHDR checksum no longer matches
    assert _code(bytes(png)) == "decode.corrupt"
    assert _code(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40) == "decode.corrupt"


def test_truncated_files_are_refused():
    jpeg = _save(Image.fromarray(_gradient(800, 600)), "JPEG", quality=90)
    assert _code(jpeg[: len(jpeg) // 2]) == "decode.truncated"
    png = _save(Image.fromarray(_gradient(800, 600)), "PNG")
    assert _code(png[: len(png) // 2]) == "decode.truncated"


def _png_header_only(w: int, h: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding():
    # A 60 000 × 60 000 PNG header (3.6 gigapixels) in a few bytes: refused from the header alone.
    assert _code(_png_header_only(60000, 60000)) == "decode.too_large"
    # Our own pixel limit applies below Pillow's.
    small_limit = DecodeLimits(max_pixels=10_000)
    assert _code(_save(Image.fromarray(_gradient(200, 100)), "PNG"), limits=small_limit) == "decode.too_large"


def test_file_size_limit(tmp_path):
    data = _save(Image.fromarray(_gradient(200, 100)), "PNG")
    p = tmp_path / "big.png"
    p.write_bytes(data)
    lim = DecodeLimits(max_bytes=100)
    assert _code(data, limits=lim) == "decode.too_large"
    assert _code(p, limits=lim) == "decode.too_large"


def test_error_as_dict_matches_report_shape():
    e = decode._err("decode.corrupt")
    assert e.as_dict() == {"code": "decode.corrupt", "message": e.message_zh, "message_en": e.message_en}


def test_rotated_camera_jpeg_reduced_and_upright():
    # A landscape-stored 4000×3000 frame shot in portrait (EXIF 6): decoded reduced AND upright, and a point
    # maps back to the upright original.
    stored = np.full((3000, 4000, 3), 128, np.uint8)
    stored[200:300, 3500:3600] = (255, 0, 0)        # near the stored top-right → upright bottom-right
    ex = Image.Exif()
    ex[0x0112] = 6
    d = load(_save(Image.fromarray(stored), "JPEG", quality=90, exif=ex))
    assert d.original_size == (3000, 4000) and d.size[1] > d.size[0] and max(d.size) <= 1024
    ys, xs = np.nonzero((d.rgb[..., 0] > 200) & (d.rgb[..., 1] < 80))
    ox, oy = d.to_original(xs.mean(), ys.mean())
    # Rotating 90° clockwise: stored (x, y) → upright (H − 1 − y, x).
    assert ox == pytest.approx(3000 - 250, abs=10) and oy == pytest.approx(3550, abs=10)
    img, s = d.at_scale(0.5)
    assert img.shape[1] == pytest.approx(3000 * s, abs=1) and img.shape[0] == pytest.approx(4000 * s, abs=1)


# --- found by a robustness review: each of these was wrong once -------------------------------

_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


def _marked(w: int = 96, h: int = 64) -> np.ndarray:
    """An image whose every orientation looks different: a block in one corner, a bar along one side."""
    rgb = np.full((h, w, 3), 128, np.uint8)
    rgb[:16, :24] = (255, 0, 0)
    rgb[h - 8:, :] = (0, 0, 255)
    return rgb


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF", "PNG"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillows_exif_transpose(fmt, orientation):
    # The upright image, stored the way a camera held at that angle stores it.
    upright = _marked()
    stored = Image.fromarray(upright)
    if orientation != 1:
        # exif_transpose applies _TRANSPOSE[o]; its inverse (ROTATE_90 ↔ ROTATE_270) stores the image.
        inverse = {Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270,
                   Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90}
        stored = stored.transpose(inverse.get(_TRANSPOSE[orientation], _TRANSPOSE[orientation]))
    ex = Image.Exif()
    ex[0x0112] = orientation
    kw = {"quality": 98} if fmt == "JPEG" else {}
    d = load(_save(stored, fmt, exif=ex, **kw))
    assert d.rgb.shape == upright.shape and d.original_size == (upright.shape[1], upright.shape[0])
    assert np.abs(d.rgb.astype(int) - upright.astype(int)).mean() < 4, (fmt, orientation)


def test_corrupt_png_image_data_is_refused_not_half_decoded():
    png = bytearray(_save(Image.fromarray(_gradient(400, 300)), "PNG"))
    png[png.find(b"IDAT") + 200] ^= 0xFF
    assert _code(bytes(png)) == "decode.corrupt"


def test_pillows_own_89_megapixel_warning_does_not_undercut_our_limit():
    # 100 MP (a medium-format camera) is inside DECODE_LIMITS.max_pixels: opened from the header, not refused.
    im = decode._open(_png_header_only(10_000, 10_000), decode.DECODE_LIMITS)
    assert im.size == (10_000, 10_000)
    assert _code(_png_header_only(11_000, 11_000)) == "decode.too_large"      # 121 MP: ours


def test_a_device_or_pipe_is_read_only_up_to_the_limit():
    # /dev/zero reports size 0 and never ends: at most max_bytes + 1 bytes are read, then refused.
    assert _code("/dev/zero", limits=DecodeLimits(max_bytes=1000)) == "decode.too_large"


_ADOBE = ((0.60974, 0.31111, 0.01947), (0.20528, 0.62567, 0.06087), (0.14919, 0.06322, 0.74457))
_SRGB = ((0.43607, 0.22249, 0.01392), (0.38515, 0.71687, 0.09708), (0.14307, 0.06061, 0.71410))   # D50-adapted


def _adobe_like_icc(primaries=_ADOBE, srgb_curve: bool = False, name: bytes = b"wide gamut test") -> bytes:
    """A minimal ICC v2 matrix/TRC RGB display profile: Adobe RGB (1998) primaries and gamma 2.2 unless
    told otherwise (``srgb_curve``: the sRGB tone curve as a parametric curve)."""
    def s15(v):
        return struct.pack(">i", round(v * 65536))

    def xyz(x, y, z):
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    def curv(g):
        if srgb_curve:
            return b"para\0\0\0\0" + struct.pack(">HH", 3, 0) + b"".join(
                s15(v) for v in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
        return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(g * 256)) + b"\0\0"

    text = name + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 79
    tags = [(b"desc", desc), (b"cprt", b"text\0\0\0\0none\0"), (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
            (b"rXYZ", xyz(*primaries[0])), (b"gXYZ", xyz(*primaries[1])),
            (b"bXYZ", xyz(*primaries[2])), (b"rTRC", curv(2.2)), (b"gTRC", curv(2.2)), (b"bTRC", curv(2.2))]
    off, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        data += b"\0" * (-(off + len(data)) % 4)
        table += sig + struct.pack(">II", off + len(data), len(body))
        data += body
    body = struct.pack(">I", len(tags)) + table + data
    hdr = (struct.pack(">I", 128 + len(body)) + b"lcms" + b"\x02\x10\0\0" + b"mntr" + b"RGB " + b"XYZ " + b"\0" * 12
           + b"acsp" + b"APPL" + b"\0" * 24 + s15(0.9642) + s15(1.0) + s15(0.8249) + b"lcms" + b"\0" * 44)
    assert len(hdr) == 128
    return hdr + body


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_wide_gamut_photo_is_measured_in_srgb(fmt):
    from PIL import ImageCms

    icc = _adobe_like_icc()
    srgb = np.zeros((64, 96, 3), np.uint8)
    srgb[:] = (100, 197, 255)                      # the CHSI light blue, as sRGB
    wide = ImageCms.applyTransform(Image.fromarray(srgb), ImageCms.buildTransform(
        ImageCms.createProfile("sRGB"), ImageCms.ImageCmsProfile(io.BytesIO(icc)), "RGB", "RGB"))
    wide = Image.fromarray(np.asarray(wide))       # only the pixels (PNG would otherwise copy a profile along)
    stored = np.asarray(wide)[0, 0]
    assert np.abs(stored.astype(int) - (100, 197, 255)).max() > 20     # the file's numbers are not sRGB's
    kw = {"quality": 98} if fmt == "JPEG" else {}
    got = load(_save(wide, fmt, icc_profile=icc, **kw)).rgb[32, 48]
    assert np.abs(got.astype(int) - (100, 197, 255)).max() <= 4, got
    # Without the profile the same numbers are taken as sRGB; an sRGB profile changes nothing.
    assert np.abs(load(_save(wide, fmt, **kw)).rgb[32, 48].astype(int) - stored).max() <= 3
    srgb_icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert np.abs(load(_save(wide, fmt, icc_profile=srgb_icc, **kw)).rgb[32, 48].astype(int) - stored).max() <= 3


def test_an_srgb_profile_under_another_name_is_not_converted():
    # Compact sRGB profiles (Facebook's "c2" ...) carry no "sRGB" in their name: the transform is tried on a
    # grid of colours and dropped when it changes nothing (it cost 15 ms a photo for nothing).
    icc = _adobe_like_icc(_SRGB, srgb_curve=True, name=b"c2")
    assert decode._srgb_transform(icc) is None
    assert decode._srgb_transform(_adobe_like_icc()) is not None
