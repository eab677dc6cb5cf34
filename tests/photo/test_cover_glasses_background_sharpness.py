"""head.cover, glasses.tinted, background and sharpness on drawn portraits (no face model needed):
the cases the labelled photos showed going wrong, rebuilt so each one fails the old rule."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tucai.photo import checks, synth
from tucai.photo.checks import Context
from tucai.photo.checks.headwear import head_cover_features, temple_hair_lab
from tucai.photo.spec import CHSI


def run(rgb, mask, g):
    results, ctx = checks.run_checks(synth.drawn_analysis(rgb, mask, g), CHSI)
    return {c.id: c for c in results}, ctx


def hat(rgb, mask, g, colour):
    """A hat of ``colour`` over the top of the head, down to just above the forehead."""
    img = rgb.copy()
    fw = g.face_width
    top = g.eye_y - 0.42 * fw
    region = np.zeros(mask.shape, np.uint8)
    cv2.ellipse(region, (round(g.centre_x), round(top)), (round(0.6 * fw), round(top - g.crown_y + 0.1 * fw)),
                0, 180, 360, 1, -1)
    region[round(top - 0.04 * fw):] = 0
    img[region.astype(bool)] = colour
    return img, np.maximum(mask, region.astype(np.float32))


@pytest.mark.parametrize("hair", [(35, 28, 24), (170, 168, 165), (215, 212, 208)])
def test_dark_grey_and_white_hair_is_no_head_cover(hair):
    # Grey and white hair is neither dark nor skin-coloured: it is recognised as the person's own hair
    # because the same colour shows beside the temples.
    rgb, mask, g = synth.drawn_portrait(hair=hair)
    r, ctx = run(rgb, mask, g)
    assert temple_hair_lab(ctx) is not None
    assert r["head.cover"].ok is True, r["head.cover"].value


@pytest.mark.parametrize("hair, colour", [((35, 28, 24), (190, 40, 40)), ((170, 168, 165), (40, 60, 160)),
                                          ((35, 28, 24), (200, 190, 170))])
def test_hat_unlike_the_hair_is_head_cover(hair, colour):
    rgb, mask, g = synth.drawn_portrait(hair=hair)
    r, _ = run(*hat(rgb, mask, g, colour), g)
    assert r["head.cover"].ok is False, r["head.cover"].value


def test_separate_mask_blob_beside_the_head_is_no_brim():
    # A neighbour's shoulder (or a segmentation blob) at forehead height is not part of the head outline.
    rgb, mask, g = synth.drawn_portrait()
    _, ctx = run(rgb, mask, g)
    base = head_cover_features(ctx)["width"]
    blob = mask.copy()
    y = round(g.eye_y - 0.42 * g.face_width - 0.1 * g.face_width)
    x = round(g.centre_x + 1.1 * g.face_width)
    blob[y - 40:y + 40, x:x + 60] = 1.0
    _, ctx2 = run(rgb, blob, g)
    assert head_cover_features(ctx2)["width"] == pytest.approx(base, abs=0.02)
    assert base < 1.35


def test_sunlit_blond_top_with_shaded_sides_is_hair():
    # Hair lit from above is lighter and paler on top than at the shaded temples, with the same hue.
    rgb, mask, g = synth.drawn_portrait(hair=(150, 110, 60))
    fw = g.face_width
    top = np.zeros(mask.shape, bool)
    top[: round(g.eye_y - 0.42 * fw)] = True
    rgb = rgb.copy()
    rgb[top & (mask > 0.5)] = (215, 190, 150)
    r, _ = run(rgb, mask, g)
    assert r["head.cover"].ok is True, r["head.cover"].value


def test_beige_beanie_is_not_scalp():
    # A beige knit hat is about skin-coloured in ΔE but paler and more yellow than skin: not a bald crown.
    rgb, mask, g = synth.drawn_portrait(hair=(60, 45, 35), skin=(200, 150, 125))
    r, _ = run(*hat(rgb, mask, g, (150, 140, 115)), g)
    assert r["head.cover"].ok is False, r["head.cover"].value


def test_bald_head_lit_from_above_is_no_head_cover():
    rgb, mask, g = synth.drawn_portrait(hair=(222, 178, 150))
    img, m = hat(rgb, mask, g, (240, 200, 172))       # the scalp, a little lighter than the face
    r, _ = run(img, m, g)
    assert r["head.cover"].ok is True, r["head.cover"].value


def grainy(rgb, sd, seed=1):
    """Film grain / sensor noise: per-pixel grey noise of standard deviation ``sd``."""
    noise = np.random.default_rng(seed).normal(0, sd, rgb.shape[:2])[..., None]
    return np.clip(rgb.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def test_grain_does_not_make_a_soft_photo_sharp():
    # A soft photo with grain (a scanned print): the Laplacian variance reads the grain as detail, the
    # edge blur width does not.
    rgb, mask, g = synth.drawn_portrait()
    r, _ = run(grainy(synth.blur(rgb, 4.0), 6), mask, g)
    c = r["sharpness"]
    assert c.value["laplacian_var"] >= CHSI.sharpness_min          # the old measure alone would pass it
    assert c.ok is False and c.value["edge_blur_px"] > CHSI.sharpness_edge_blur_max_px


def test_edge_blur_follows_the_blur_not_the_grain():
    rgb, mask, g = synth.drawn_portrait()
    widths = [run(synth.blur(rgb, s) if s else rgb, mask, g)[0]["sharpness"].value["edge_blur_px"]
              for s in (0, 2.0, 3.0, 4.0)]
    assert widths == sorted(widths) and widths[-1] - widths[0] > 0.8
    clean = run(synth.blur(rgb, 2.0), mask, g)[0]["sharpness"].value["edge_blur_px"]
    noisy = run(grainy(synth.blur(rgb, 2.0), 6), mask, g)[0]["sharpness"].value["edge_blur_px"]
    assert abs(noisy - clean) < 0.1


def test_sharp_photo_with_grain_passes():
    rgb, mask, g = synth.drawn_portrait()
    r, _ = run(grainy(rgb, 4), mask, g)
    assert r["sharpness"].ok is True, r["sharpness"].value


def test_head_cut_off_at_the_top_does_not_break_head_cover():
    # The student too high in the frame: the head top is outside the photo. The check must still answer
    # (framing refuses the photo), not raise.
    rgb, mask, g = synth.drawn_portrait()
    cut = round(g.eye_y - 0.2 * g.face_width)
    g2 = type(g)(crown_y=g.crown_y - cut, eye_y=g.eye_y - cut, eye_mid_x=g.eye_mid_x, face_left=g.face_left,
                 face_right=g.face_right, chin_y=g.chin_y - cut)
    r, _ = run(rgb[cut:], mask[cut:], g2)
    assert r["head.cover"].ok in (True, False, None)
    assert r["framing"].ok is False


def lenses(rgb, g, transmission):
    """Glasses whose lenses pass ``transmission`` (R, G, B factors) of the light: over the eyes and the
    upper cheeks, as real lenses sit."""
    img = rgb.astype(np.float32)
    fw = g.face_width
    m = np.zeros(rgb.shape[:2], np.uint8)
    for s in (-1, 1):
        centre = (round(g.eye_mid_x + s * 0.21 * fw), round(g.eye_y + 0.05 * fw))
        cv2.ellipse(m, centre, (round(0.17 * fw), round(0.14 * fw)), 0, 0, 360, 1, -1)
    img[m.astype(bool)] *= np.array(transmission, np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_light_amber_lenses_are_tinted():
    # A light amber lens hardly darkens (the old darkening score passes it) but turns the skin behind it
    # yellow; the eyes stay visible, so eyes.open is still judged.
    rgb, mask, g = synth.drawn_portrait()
    r, _ = run(lenses(rgb, g, (1.0, 0.93, 0.62)), mask, g)
    c = r["glasses.tinted"]
    assert c.value["score"] <= CHSI.tint_max
    assert c.ok is False and c.value["warm_hue_shift_deg"] > CHSI.tint_warm_shift_max_deg
    assert r["eyes.open"].ok is not None


@pytest.mark.parametrize("transmission", [(1.0, 1.0, 1.0), (0.92, 0.92, 0.92), (0.75, 0.72, 0.75)])
def test_clear_lenses_and_under_eye_shadow_are_not_tinted(transmission):
    # Clear lenses, a neutral shade, a darker, slightly purple under-eye area (dark circles): no yellow cast.
    rgb, mask, g = synth.drawn_portrait()
    r, _ = run(lenses(rgb, g, transmission), mask, g)
    c = r["glasses.tinted"]
    assert c.ok is True, c.value
    assert c.value["warm_hue_shift_deg"] is not None and c.value["warm_hue_shift_deg"] <= CHSI.tint_warm_shift_max_deg


def test_dark_sunglasses_are_tinted_and_hide_the_eyes():
    rgb, mask, g = synth.drawn_portrait()
    r, _ = run(lenses(rgb, g, (0.15, 0.15, 0.17)), mask, g)
    assert r["glasses.tinted"].ok is False and r["glasses.tinted"].value["score"] > CHSI.tint_max
    assert r["eyes.open"].ok is None


def test_background_judged_around_the_head_when_the_crop_shows_none():
    # The student fills the whole crop (nothing of the backdrop would be in the photo), but the camera
    # sees a cluttered scene beside them: judged there instead of "cannot be measured".
    rgb, mask, g = synth.drawn_portrait()
    h, w = mask.shape
    canvas = synth.cluttered_background((3 * w, h))
    canvas[:, w:2 * w] = rgb
    full = np.zeros((h, 3 * w), np.float32)
    full[:, w:2 * w] = 1.0                      # the person (a wide coat) covers the whole crop
    g3 = type(g)(crown_y=g.crown_y, eye_y=g.eye_y, eye_mid_x=g.eye_mid_x + w, face_left=g.face_left + w,
                 face_right=g.face_right + w, chin_y=g.chin_y)
    r, _ = run(canvas, full, g3)
    c = r["background.uniform"]
    assert c.ok is False and c.value["area"] == "around_head", c.value
    # A plain backdrop beside them passes the same way.
    canvas[:, :w] = canvas[:, 2 * w:] = synth.BLUE
    r, _ = run(canvas, full, g3)
    assert r["background.uniform"].ok is True and r["background.uniform"].value["area"] == "around_head"
    assert r["background.color"].ok is True


def test_background_measured_on_the_crop_says_so():
    rgb, mask, g = synth.drawn_portrait()
    r, _ = run(rgb, mask, g)
    assert r["background.uniform"].value["area"] == "crop" and r["background.color"].value["area"] == "crop"


def test_tall_wide_hair_alone_is_no_head_cover():
    # Big hair makes the head outline tall and wide, like a hat would: the outline alone never refuses.
    rgb0, mask0, g0 = synth.drawn_portrait()
    pad = 600                                     # room above the head for the hair
    rgb = np.vstack([np.full((pad, rgb0.shape[1], 3), synth.BLUE, np.uint8), rgb0])
    mask = np.vstack([np.zeros((pad, mask0.shape[1]), np.float32), mask0])
    fw = g0.face_width
    eye = g0.eye_y + pad
    big = np.zeros(mask.shape, np.uint8)
    cv2.ellipse(big, (round(g0.centre_x), round(eye - 0.45 * fw)), (round(0.95 * fw), round(1.2 * fw)), 0, 0, 360, 1, -1)
    big[round(eye - 0.12 * fw):] = 0              # above the brows only
    face_top = round(eye - 0.42 * fw)
    hair = big.astype(bool) & (np.arange(mask.shape[0])[:, None] < face_top)
    rgb[hair] = (35, 28, 24)
    mask[big.astype(bool)] = 1.0
    crown = float(np.flatnonzero(big.any(axis=1))[0])
    g = type(g0)(crown_y=crown, eye_y=eye, eye_mid_x=g0.eye_mid_x, face_left=g0.face_left,
                 face_right=g0.face_right, chin_y=g0.chin_y + pad)
    r, ctx = run(rgb, mask, g)
    f = head_cover_features(ctx)
    assert f["height"] > 1.85 and f["width"] > 1.75          # both shape cues at their maximum
    assert r["head.cover"].ok is True, r["head.cover"].value


def test_edge_blur_of_a_flat_crop_is_never_infinite():
    """A crop that is flat but for one edge makes the 98th-percentile slope 0; a zero slope must not be
    divided by (the report would carry Infinity, which is not JSON)."""
    import math

    from tucai.photo.checks.sharpness import edge_blur_px

    c = np.full((200, 200), 128, np.uint8)
    c[100:] = 20
    v = edge_blur_px(c)
    assert v is None or math.isfinite(v)
