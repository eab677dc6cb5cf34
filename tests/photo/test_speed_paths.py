"""The fast paths of the photo engine give the values of the plain computations they replace
(bench/photo_speed.py measures how fast; these tests say they still measure the same thing)."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from tucai.photo.resample import area_shrink
from tucai.photo import decode, normalize as nz
from tucai.photo.checks import _base
from tucai.photo.spec import CHSI, Band


def _textured_canvas(seed: int = 0) -> np.ndarray:
    """480×640 with smooth areas and fine texture (a JPEG's size depends on both)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:640, 0:480]
    base = np.stack([120 + 60 * np.sin(x / 40), 140 + 50 * np.cos(y / 55), 180 - 0.1 * y], axis=2)
    noise = rng.normal(0, 12, (640, 480, 3)) * (y[..., None] > 320)      # textured lower half (clothes)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def test_to_lab_of_a_crop_view_equals_the_contiguous_float_conversion():
    rgb = np.random.default_rng(1).integers(0, 256, (90, 70, 3), dtype=np.uint8)
    view = rgb[5:80:2, 3:61]                                   # strided, not contiguous
    ref = cv2.cvtColor(np.ascontiguousarray(view).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    got = _base.to_lab(view)
    assert got.dtype == np.float32 and got.shape == view.shape
    assert np.array_equal(got, ref)


def test_jpeg_fast_decode_is_rgb_and_equals_pillow_draft():
    rgb = _textured_canvas(2)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    for d in (1, 2, 4):
        im = Image.open(io.BytesIO(data))
        fast = decode._jpeg_fast(data, im, d)
        ref = Image.open(io.BytesIO(data))
        ref.draft("RGB", (480 // d, 640 // d))
        ref = np.asarray(ref.convert("RGB"))
        assert fast is not None and fast.shape == ref.shape
        # Same libjpeg-turbo scaled IDCT: channel order right means near-identical pixels (a swapped R/B
        # would differ by tens of levels on this colourful canvas).
        assert np.abs(fast.astype(int) - ref.astype(int)).mean() < 1.0, d


def test_strip_estimate_is_close_to_the_real_size():
    rgb = _textured_canvas(3)
    im = Image.fromarray(rgb)
    est = nz._strip_estimator(im, rgb, 300)
    assert est is not None
    for q in (92, 80, 65):
        real = len(nz._encode(im, q, 300))
        assert abs(est(q) / real - 1) < 0.15, (q, est(q), real)
    # Too small a canvas to sample: no estimate, the search encodes the canvas itself.
    assert nz._strip_estimator(im, rgb[:200], 300) is None


@pytest.mark.parametrize("window", [Band(20, 40), Band(45, 55), Band(100, 200)])
def test_estimated_quality_search_lands_in_the_window_with_one_or_two_encodes(window):
    rgb = _textured_canvas(4)
    prof = replace(CHSI, size_kb=window)
    enc = nz.encode_jpeg(rgb, prof)
    lo, hi = nz.size_window_bytes(prof)
    assert enc.size_ok and lo <= enc.size_bytes <= hi, (window, enc.quality, enc.size_bytes)
    assert enc.quality >= prof.jpeg_quality_min
    assert enc.encodes <= 2
    # The returned bytes are the canvas encoded at the returned quality (not the estimate's strips).
    assert enc.jpeg == nz._encode(Image.fromarray(rgb), enc.quality, prof.dpi)


def test_the_start_quality_is_kept_when_it_fits():
    rgb = _textured_canvas(5)
    n92 = len(nz._encode(Image.fromarray(rgb), CHSI.jpeg_quality_start, CHSI.dpi))
    # A window around the start quality's size: the search must not trade quality away.
    prof = replace(CHSI, size_kb=Band(math.floor(n92 * 0.7 / 1024), math.ceil(n92 * 1.3 / 1000)))
    enc = nz.encode_jpeg(rgb, prof)
    assert enc.quality == CHSI.jpeg_quality_start and enc.encodes == 1


def test_exposure_clipping_counts_pixels_with_all_channels_saturated(compliant, run_photo, check_of):
    rgb = compliant.rgb.copy()
    g = compliant.geometry
    # Blow out a patch of the forehead (all channels 255) and paint a bright-red patch on a cheek
    # (one channel 255 only: normal on bright skin, not clipping).
    fw = g.face_right - g.face_left
    cx = int((g.face_left + g.face_right) / 2)
    y = int(g.eye_y - 0.35 * fw)
    # 32×80 px: a 24×60 patch gave 0.0049–0.0056 depending on how it fell on the analysis grid.
    rgb[y - 16:y + 16, cx - 40:cx + 40] = 255
    ref = run_photo(compliant.rgb)
    r = run_photo(rgb)
    before = check_of(ref, "exposure")["value"]["clipped"]
    after = check_of(r, "exposure")["value"]["clipped"]
    assert after > before + 0.005, (before, after)
    red = compliant.rgb.copy()
    yc = int(g.eye_y + 0.25 * fw)
    red[yc - 10:yc + 10, int(g.face_left + 0.2 * fw) - 15:int(g.face_left + 0.2 * fw) + 15] = (255, 120, 110)
    assert check_of(run_photo(red), "exposure")["value"]["clipped"] <= before + 0.001


@pytest.mark.parametrize("seed", range(6))
def test_percentiles_equal_numpy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5000))
    vals = rng.normal(50, 20, n).astype(np.float32)
    if seed % 2:
        vals = np.round(vals)                                   # many ties
    grid = vals.reshape(1, -1) if seed == 4 else vals
    for qs in ((2, 98), (5, 95), (0, 50, 100), (33.3,)):
        ref = np.percentile(grid, qs)
        got = _base.percentiles(grid, qs)
        assert got.dtype == ref.dtype and np.array_equal(got, ref), (qs, got, ref)


@pytest.mark.parametrize("factor", [1.1, 1.45, 1.81, 1.99])
def test_render_crop_shrink_matches_area_averaging(factor):
    """Shrinking by less than 2 goes through a 2:1 area average of a bilinear 2× canvas: the same image
    as a direct INTER_AREA within a fraction of a grey level, with the same pixel alignment."""
    from tucai.photo.geometry import FaceGeometry

    rng = np.random.default_rng(7)
    cw, ch = 3 * round(160 * factor), 4 * round(160 * factor)
    src = cv2.GaussianBlur(rng.integers(0, 256, (ch + 40, cw + 40, 3), dtype=np.uint8), (0, 0), 1.2)
    src[:, 20 + cw // 3:] //= 2                                    # a sharp vertical edge at a known column
    geo = FaceGeometry(crown_y=0, eye_y=1, eye_mid_x=0, face_left=0, face_right=1, chin_y=2)
    plan = nz.CropPlan(x0=20, y0=20, x1=20 + cw, y1=20 + ch, scale=480 / cw, out_size=(480, 640), geometry=geo)
    out = nz.render_crop(src, plan)
    ref = cv2.resize(np.ascontiguousarray(src[20:20 + ch, 20:20 + cw]), (480, 640), interpolation=cv2.INTER_AREA)
    assert out.shape == ref.shape == (640, 480, 3)
    diff = np.abs(out.astype(int) - ref.astype(int))
    assert diff.mean() < 0.5, diff.mean()
    # The edge lands on the same canvas column: the step in mean brightness along x is where INTER_AREA has it.
    col = lambda im: int(np.argmin(np.diff(im.astype(float).mean(axis=(0, 2)))))
    assert abs(col(out) - col(ref)) <= 1


@pytest.mark.parametrize("size", [(240, 250), (240, 180), (120, 160), (240, 100)])
def test_window_shrink_matches_area_averaging(size):
    """``resample.area_shrink`` (the window copy the background/contrast checks read, and the normaliser's
    output): the 2:1 path when both
    axes shrink by less than 2, the same image as a direct INTER_AREA within a fraction of a grey level,
    edges in place; plain INTER_AREA otherwise ((120, 160), (240, 100): an axis shrinks by 2 or more)."""
    rng = np.random.default_rng(3)
    src = cv2.GaussianBlur(rng.integers(0, 256, (280, 435, 3), dtype=np.uint8), (0, 0), 1.2)
    src[:, 250:] //= 2
    view = src[:, 5:]                                              # a strided crop view, as the Context passes
    out = area_shrink(view, size)
    ref = cv2.resize(np.ascontiguousarray(view), size, interpolation=cv2.INTER_AREA)
    assert out.shape == ref.shape == (size[1], size[0], 3)
    diff = np.abs(out.astype(int) - ref.astype(int))
    assert diff.mean() < 0.5, diff.mean()
    col = lambda im: int(np.argmin(np.diff(im.astype(float).mean(axis=(0, 2)))))
    assert abs(col(out) - col(ref)) <= 1
    if not (size[0] < view.shape[1] < 2 * size[0] and size[1] < view.shape[0] <= 2 * size[1]):
        assert np.array_equal(out, ref)                            # outside the 2:1 path: INTER_AREA itself


def _crown_tops_by_walking(band: np.ndarray, y_fore: int) -> list[int]:
    """The plain per-column walk up from the forehead row that ``analysis._crown`` vectorises."""
    tops = []
    for j in range(band.shape[1]):
        col = band[:, j]
        if not col[-1]:
            continue
        run = 0
        while run < col.size and col[col.size - 1 - run]:
            run += 1
        tops.append(y_fore - run + 1)
    return tops


@pytest.mark.parametrize("seed", range(5))
def test_crown_equals_the_per_column_walk(seed):
    """The crown (10th percentile of the columns' mask tops) from the vectorised walk equals the plain
    loop's, with holes in the hair, columns off at the forehead and columns on up to the top edge."""
    from tucai.photo import analysis as an

    rng = np.random.default_rng(seed)
    h, w = 300, 240
    mask = np.zeros((h, w), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    mask[(xx - 120) ** 2 / 90 ** 2 + (yy - 170) ** 2 / 130 ** 2 <= 1] = 0.9      # the head
    mask[rng.random((h, w)) < 0.02] = 0.0                                         # holes
    mask[:, 60:70] = 0.0                                                          # columns off
    if seed % 2:
        mask[:40, 100:140] = 0.95                                                 # hair up to the top edge
    lm = np.zeros((478, 3))
    lm[an.FOREHEAD, :2] = (120, 120)
    lm[an.CHIN, :2] = (120, 280)
    lm[an.IRIS_R, :2], lm[an.IRIS_L, :2] = (95, 170), (145, 170)
    fw = 200.0
    crown, from_mask, cut = an._crown(mask, lm, fw)
    y_fore, x0, x1 = 120, int(120 - 0.3 * fw), int(120 + 0.3 * fw)
    tops = _crown_tops_by_walking(mask[: y_fore + 1, x0:x1] > 0.5, y_fore)
    assert from_mask and tops
    assert crown == float(np.percentile(tops, 10))
    assert cut == (crown <= 1.0)
