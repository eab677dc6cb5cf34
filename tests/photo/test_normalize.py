"""Normalisation to the 480×640 canvas: crop geometry, refusals, no mirroring, and the JPEG file itself."""

from __future__ import annotations

import csv
import io
import struct
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from tucai.photo.geometry import FaceGeometry
from tucai.photo.normalize import (
    NormalizeError, decode_denominator, encode_jpeg, normalize, plan_crop, size_window_bytes,
)
from tucai.photo.spec import CHSI, Band

BLUE = (100, 197, 255)
SKIN = (225, 180, 150)
MARK = (255, 0, 0)          # asymmetric marker: a red square beside the LEFT cheek (viewer's left)


def make_portrait(w: int, h: int, cx: float, eye_y: float, fw: float, *, seed: int = 1, texture: bool = True):
    """A drawn head-and-shoulders "portrait" on the reference blue, with the FaceGeometry it was drawn with.

    The skin ellipse is exactly ``fw`` wide at its widest (at eye height + 0.15·fw); hair reaches the crown."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.float32)
    img[:] = BLUE
    crown, chin = eye_y - 0.75 * fw, eye_y + 0.75 * fw
    face_cy = eye_y + 0.15 * fw
    cv2.ellipse(img, (round(cx), round((crown + chin) / 2)), (round(fw * 0.55), round((chin - crown) / 2)), 0, 0, 360,
                (40, 30, 25), -1)
    cv2.ellipse(img, (round(cx), round(face_cy)), (round(fw / 2), round(0.6 * fw)), 0, 0, 360, SKIN, -1)
    cv2.rectangle(img, (round(cx - 1.2 * fw), round(chin + 0.15 * fw)), (round(cx + 1.2 * fw), h), (45, 45, 50), -1)
    for dx in (-0.22, 0.22):
        cv2.circle(img, (round(cx + dx * fw), round(eye_y)), max(2, round(fw * 0.05)), (30, 20, 20), -1)
    m = max(4, round(fw * 0.08))
    mx, my = round(cx - 0.75 * fw), round(eye_y)
    cv2.rectangle(img, (mx - m, my - m), (mx + m, my + m), MARK, -1)
    if texture:
        # Sensor noise and fine texture, so JPEG sizes resemble a real photo's.
        n = rng.normal(0, 1, (h, w)).astype(np.float32)
        img += (cv2.GaussianBlur(n, (0, 0), 1.0) * 9)[..., None]
        img += rng.normal(0, 2.0, (h, w, 3)).astype(np.float32)
    geo = FaceGeometry(crown_y=crown, eye_y=eye_y, eye_mid_x=cx, face_left=cx - fw / 2, face_right=cx + fw / 2,
                       chin_y=chin)
    return np.clip(img, 0, 255).astype(np.uint8), geo, (mx, my)


def assert_in_bands(g: FaceGeometry, profile=CHSI):
    assert profile.crown_y.contains(g.crown_y), g
    assert profile.eye_y.contains(g.eye_y), g
    assert profile.face_width.contains(g.face_width), g
    assert abs(g.centre_x - profile.width / 2) <= profile.centre_tolerance_px / 2 + 1e-6, g


CASES = [
    # (image w, h, face centre x, eye y, face width) in source pixels
    (1500, 2000, 760, 800, 500),        # camera frame, reduced decode
    (1000, 1400, 480, 560, 260),        # face barely larger than the canvas band
    (3000, 2000, 1400, 800, 600),       # landscape frame
    (700, 1000, 330, 380, 200),         # small source: near 1:1
    (6000, 4000, 3100, 1500, 1300),     # 24 MP at full resolution
]


@pytest.mark.parametrize("w,h,cx,ey,fw", CASES)
def test_normalised_geometry_is_inside_every_band(w, h, cx, ey, fw):
    img, geo, _ = make_portrait(w, h, cx, ey, fw, texture=w * h < 5_000_000)
    n = normalize(img, geo, CHSI)
    assert n.image.shape == (640, 480, 3) and n.image.dtype == np.uint8
    x0, y0, x1, y1 = n.crop
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert (x1 - x0) * 4 == (y1 - y0) * 3                      # exactly the canvas aspect
    assert n.scale == pytest.approx(480 / (x1 - x0))
    assert n.scale <= getattr(CHSI, "max_upscale", 1.0) + 1e-9                 # never enlarged
    assert n.geometry == geo.scaled(n.scale, x0, y0)
    assert_in_bands(n.geometry)
    # "Near the middle": eyes within a quarter band of 250, face width away from the band's ends.
    assert abs(n.geometry.eye_y - CHSI.eye_y.mid) <= 25
    assert 200 <= n.geometry.face_width <= 280
    # The pixels agree with the geometry: the skin is as wide as the mapped face width, centred at 240.
    row = round(n.geometry.eye_y + 0.15 * n.geometry.face_width)
    skin = np.abs(n.image[row].astype(int) - SKIN).sum(axis=1) < 60
    cols = np.flatnonzero(skin)
    assert abs((cols[-1] - cols[0] + 1) - n.geometry.face_width) <= 4
    assert abs((cols[0] + cols[-1]) / 2 - 240) <= CHSI.centre_tolerance_px / 2 + 2


def test_reduced_decode_gives_the_same_framing():
    big, geo, _ = make_portrait(2400, 3200, 1200, 1280, 800, texture=False)
    # A 1/2 decode (what decode_denominator picks for an 800 px face) with its geometry in its own pixels.
    assert decode_denominator(geo.face_width) == 2
    small = cv2.resize(big, (1200, 1600), interpolation=cv2.INTER_AREA)
    a = normalize(big, geo, CHSI)
    b = normalize(small, geo.scaled(0.5), CHSI)
    for f in ("crown_y", "eye_y", "face_left", "face_right"):
        assert getattr(a.geometry, f) == pytest.approx(getattr(b.geometry, f), abs=4)
    assert np.abs(a.image.astype(int) - b.image.astype(int)).mean() < 6


def test_never_mirrored():
    img, geo, (mx, my) = make_portrait(1500, 2000, 760, 800, 500, texture=False)
    n = normalize(img, geo, CHSI)
    x0, y0, _, _ = n.crop
    ox, oy = round((mx - x0) * n.scale), round((my - y0) * n.scale)
    assert ox < 240                                            # the marker stays on the viewer's left
    assert tuple(n.image[oy, ox]) == pytest.approx(MARK, abs=12)
    mirrored = n.image[oy, 479 - ox].astype(int)
    assert np.abs(mirrored - MARK).sum() > 150
    # Nothing invented: every output pixel comes from inside the crop (the crop lies in the image).
    assert n.crop[2] <= img.shape[1] and n.crop[3] <= img.shape[0] and min(n.crop[:2]) >= 0


@pytest.mark.parametrize("cx,ey,sides", [
    (150, 800, {"left"}), (1350, 800, {"right"}), (760, 300, {"top"}), (760, 1850, {"bottom"}),
    (150, 300, {"left", "top"}),
])
def test_refuses_when_the_crop_would_leave_the_original(cx, ey, sides):
    img, geo, _ = make_portrait(1500, 2000, cx, ey, 500, texture=False)
    with pytest.raises(NormalizeError) as ei:
        normalize(img, geo, CHSI)
    e = ei.value
    assert e.code == "framing.out_of_frame"
    assert set(e.details["sides"]) == sides
    assert e.message_zh and e.message_en and all(s in e.message_en for s in sides)


def test_a_crop_touching_the_edge_is_fine_when_the_bands_allow_it():
    # Head high in the frame, but the eye/crown bands leave room: the planner slides the crop down.
    img, geo, _ = make_portrait(1500, 2000, 760, 520, 500, texture=False)
    n = normalize(img, geo, CHSI)
    assert_in_bands(n.geometry)


def test_refuses_a_face_too_small_in_the_original():
    img, geo, _ = make_portrait(800, 1000, 400, 400, 150, texture=False)
    with pytest.raises(NormalizeError) as ei:
        normalize(img, geo, CHSI)
    assert ei.value.code == "framing.too_small"
    assert ei.value.details["face_width_px"] == 150
    # The threshold is the profile's number, not a constant in the code.
    lenient = replace(CHSI, min_source_face_width_px=120, max_upscale=1.7)
    n = normalize(img, geo, lenient)
    assert_in_bands(n.geometry)


def test_refuses_when_the_bands_cannot_hold_together():
    # Crown far above the eyes for the face width (a tall hat of hair): no scale meets all three bands.
    geo = FaceGeometry(crown_y=100, eye_y=1100, eye_mid_x=750, face_left=500, face_right=1000, chin_y=1500)
    with pytest.raises(NormalizeError) as ei:
        plan_crop(geo, (1500, 2000), CHSI)
    assert ei.value.code == "framing.bands_unreachable"


def test_refuses_bad_input():
    img, geo, _ = make_portrait(800, 1000, 400, 400, 300, texture=False)
    with pytest.raises(NormalizeError) as ei:
        normalize(img[..., 0], geo, CHSI)
    assert ei.value.code == "normalize.bad_image"
    with pytest.raises(NormalizeError) as ei:
        normalize(img, replace(geo, face_right=geo.face_left - 1), CHSI)
    assert ei.value.code == "framing.bad_geometry"
    with pytest.raises(NormalizeError) as ei:
        normalize(img, replace(geo, eye_y=float("nan")), CHSI)
    assert ei.value.code == "framing.bad_geometry"


def test_decode_denominator_keeps_the_face_above_the_band():
    assert decode_denominator(3000) == 8        # 375 px at 1/8
    assert decode_denominator(1000) == 2        # 500 px at 1/2, 250 at 1/4 would need enlarging
    assert decode_denominator(250) == 1


# --- the JPEG file ---------------------------------------------------------------------------

def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the scan."""
    assert data[:2] == b"\xff\xd8"
    out, i = [], 2
    while i < len(data):
        assert data[i] == 0xFF
        marker = data[i + 1]
        if marker == 0xDA:
            out.append((marker, b""))
            break
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        out.append((marker, data[i + 4:i + 2 + length]))
        i += 2 + length
    return out


# ITU-T T.81 Annex K luminance table; libjpeg scales it by 200 − 2q percent for quality q ≥ 50.
STD_LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17,
            22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87,
            103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]


def assert_chsi_jpeg(data: bytes, min_quality: int = 60):
    segs = jpeg_segments(data)
    markers = [m for m, _ in segs]
    assert markers[0] == 0xE0 and segs[0][1][:5] == b"JFIF\x00"
    units, xd, yd = struct.unpack(">BHH", segs[0][1][7:12])
    assert (units, xd, yd) == (1, 300, 300)                   # dots per inch, 300 × 300
    assert 0xC0 in markers                                    # baseline DCT
    assert not {0xC1, 0xC2, 0xC3, 0xC9, 0xCA} & set(markers)  # not extended/progressive/lossless/arithmetic
    assert 0xE1 not in markers and 0xE2 not in markers        # no EXIF/XMP, no ICC profile
    sof = dict(segs)[0xC0]
    precision, height, width, ncomp = struct.unpack(">BHHB", sof[:6])
    assert (precision, width, height, ncomp) == (8, 480, 640, 3)   # 24-bit colour
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "RGB" and im.size == (480, 640)
        assert im.info.get("progressive", 0) == 0 and not im.info.get("progression")
        luma = list(im.quantization[0])
    # Quality ≥ min_quality: the luminance table is no coarser than libjpeg's table at that quality.
    # (Pillow gives the table in natural order, like STD_LUMA.)
    scale = 200 - 2 * min_quality
    coarsest = [max(1, (v * scale + 50) // 100) for v in STD_LUMA]
    assert all(a <= b for a, b in zip(luma, coarsest)), (luma, coarsest)


def test_normalised_file_meets_the_chsi_format_and_size_window():
    img, geo, _ = make_portrait(1500, 2000, 760, 800, 500)
    n = normalize(img, geo, CHSI)
    assert_chsi_jpeg(n.jpeg)
    assert n.quality >= CHSI.jpeg_quality_min
    lo, hi = size_window_bytes(CHSI)
    assert n.size_ok and lo <= len(n.jpeg) == n.size_bytes <= hi
    assert n.encodes <= 4
    # The file decodes to the returned canvas (within JPEG error).
    dec = np.asarray(Image.open(io.BytesIO(n.jpeg)).convert("RGB")).astype(int)
    assert np.abs(dec - n.image.astype(int)).mean() < 6


@pytest.mark.parametrize("window", [Band(20, 40), Band(30, 60), Band(45, 55), Band(60, 90), Band(12, 18)])
def test_quality_search_honours_the_size_window(window):
    img, geo, _ = make_portrait(1500, 2000, 760, 800, 500, seed=3)
    canvas = normalize(img, geo, CHSI).image
    prof = replace(CHSI, size_kb=window)
    enc = encode_jpeg(canvas, prof)
    data, quality = enc                                        # unpacks as (bytes, quality)
    lo, hi = size_window_bytes(prof)
    assert enc.size_ok, (window, quality, len(data))
    assert lo <= len(data) <= hi and quality >= 60
    assert enc.encodes <= 6
    assert_chsi_jpeg(data, min_quality=quality)


def test_impossible_windows_return_the_closest_and_say_so():
    img, geo, _ = make_portrait(1500, 2000, 760, 800, 500)
    canvas = normalize(img, geo, CHSI).image
    tiny = encode_jpeg(canvas, replace(CHSI, size_kb=Band(1, 2)))
    assert not tiny.size_ok and tiny.quality == CHSI.jpeg_quality_min       # never below the minimum
    huge = encode_jpeg(canvas, replace(CHSI, size_kb=Band(900, 1000)))
    assert not huge.size_ok and huge.quality == 100
    assert len(huge.jpeg) > len(tiny.jpeg)


def test_real_blue_background_portraits_fit_the_window(faces_dir):
    rows = [r for r in csv.DictReader(open(faces_dir / "labels.csv", encoding="utf-8"))
            if r["background"] == "blue_uniform"]
    assert rows
    for r in rows:
        with Image.open(faces_dir / r["split"] / r["file"]) as im:
            im = im.convert("RGB")
            w, h = im.size
            cw = min(w, h * 3 / 4)
            ch = cw * 4 / 3
            im = im.resize((480, 640), Image.LANCZOS, box=((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2))
        enc = encode_jpeg(np.asarray(im), CHSI)
        assert enc.size_ok, (r["file"], enc.quality, enc.size_bytes)
        assert_chsi_jpeg(enc.jpeg)


def test_an_already_normalised_photo_is_kept_as_it_is():
    # A compliant 480×640 photo: the only crop that needs no enlarging is the whole picture, unchanged.
    img, geo, _ = make_portrait(480, 640, 240, 250, 240)
    n = normalize(img, geo, CHSI)
    assert n.crop == (0, 0, 480, 640) and n.scale == 1
    assert np.array_equal(n.image, img)
    assert n.geometry == geo


def test_a_head_filling_the_frame_is_told_to_step_back():
    img, geo, _ = make_portrait(700, 800, 350, 400, 500, texture=False)
    with pytest.raises(NormalizeError) as ei:
        normalize(img, geo, CHSI)
    e = ei.value
    assert e.code == "framing.out_of_frame" and {"top", "bottom"} <= set(e.details["sides"])
    assert "后退" in e.message_zh and "step back" in e.message_en


@pytest.mark.parametrize("w, h, cx, ey, fw", CASES)
def test_crown_and_eyes_are_kept_inside_their_bands_with_a_margin(w, h, cx, ey, fw):
    # The measured crown sits a few pixels below real hair: a crop on the band's very edge puts the hair
    # outside it. Where the photo allows, the plan keeps band_margin_px inside.
    img, geo, _ = make_portrait(w, h, cx, ey, fw, texture=False)
    g = plan_crop(geo, (w, h), CHSI).geometry
    m = CHSI.band_margin_px
    assert CHSI.crown_y.lo + m - 0.5 <= g.crown_y <= CHSI.crown_y.hi - m + 0.5, g
    assert CHSI.eye_y.lo + m - 0.5 <= g.eye_y <= CHSI.eye_y.hi - m + 0.5, g


def test_a_picture_with_too_few_pixels_is_told_to_use_full_resolution():
    # 486 × 612 px: no 480 × 640 crop exists at any framing (stepping back would only make it worse).
    img, geo, _ = make_portrait(486, 612, 243, 300, 214, texture=False)
    with pytest.raises(NormalizeError) as ei:
        normalize(img, geo, CHSI)
    assert ei.value.code == "framing.too_small" and "full resolution" in ei.value.message_en


def test_a_window_only_full_colour_resolution_reaches_is_reached_with_4_4_4():
    from PIL import JpegImagePlugin

    from tucai.photo.normalize import _encode

    img, geo, _ = make_portrait(1500, 2000, 760, 800, 500, seed=5)
    canvas = normalize(img, geo, CHSI).image
    im = Image.fromarray(canvas)
    s420, s444 = len(_encode(im, 100, 300, subsampling=2)), len(_encode(im, 100, 300, subsampling=0))
    assert s444 > s420 * 1.1
    lo_kb = (s420 + (s444 - s420) / 3) / 1024
    prof = replace(CHSI, size_kb=Band(lo_kb, lo_kb * 1.3))
    enc = encode_jpeg(canvas, prof)
    assert enc.size_ok and size_window_bytes(prof)[0] <= len(enc.jpeg) <= size_window_bytes(prof)[1]
    assert JpegImagePlugin.get_sampling(Image.open(io.BytesIO(enc.jpeg))) == 0      # 4:4:4
    assert_chsi_jpeg(enc.jpeg, min_quality=enc.quality)


def test_tall_hair_is_not_planned_onto_the_edge_of_the_crown_band():
    # Hair 1.3 face widths above the eyes: crown and eyes only fit near the top of the crown band. The
    # plan keeps the margin (crown ≥ 54), not the band edge (50), where real hair would poke out.
    img, geo, _ = make_portrait(1500, 2000, 760, 900, 500, texture=False)
    tall = replace(geo, crown_y=geo.eye_y - 1.3 * geo.face_width)
    g = plan_crop(tall, (1500, 2000), CHSI).geometry
    assert g.crown_y >= CHSI.crown_y.lo + CHSI.band_margin_px - 0.5, g
    assert_in_bands(g)
