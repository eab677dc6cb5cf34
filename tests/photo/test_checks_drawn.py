"""The image-level checks on drawn portraits (no real photo, no face model needed): background,
clothing, shoulders, exposure, contrast, lighting, sharpness and framing. The Analysis a face model
would produce is supplied by ``synth.drawn_analysis``; these tests run even without ../shared/faces."""

from __future__ import annotations

import numpy as np
import pytest

from tucai.photo import checks, synth
from tucai.photo.spec import CHSI


def run(rgb, mask, g):
    results, _ = checks.run_checks(synth.drawn_analysis(rgb, mask, g), CHSI)
    return {c.id: c for c in results}


@pytest.fixture(scope="module")
def drawn():
    return synth.drawn_portrait()


IMAGE_CHECKS = ("face.count", "pose.roll", "framing", "background.color", "background.uniform", "clothing.color",
                "shoulders.level", "exposure", "contrast", "lighting.balance", "sharpness", "glasses.glare",
                "glasses.tinted", "hair.eyebrows", "head.cover")


def test_drawn_compliant_portrait_passes(drawn):
    r = run(*drawn)
    for cid in IMAGE_CHECKS:
        assert r[cid].ok is True, (cid, r[cid].value, r[cid].message_en)
    assert r["background.color"].value["nearest"] == "blue" and r["background.color"].value["delta_e"] < 1


@pytest.mark.parametrize("colour, ok", [((255, 255, 255), True), ((240, 240, 240), True), ((180, 60, 60), False),
                                        ((30, 60, 140), False), ((150, 150, 150), False)])
def test_background_colour(drawn, colour, ok):
    rgb, mask, g = drawn
    c = run(synth.composite(rgb, mask, colour), mask, g)["background.color"]
    assert c.ok is ok, c.value


def test_background_gradient_and_clutter(drawn):
    rgb, mask, g = drawn
    h, w = rgb.shape[:2]
    grad = run(synth.composite(rgb, mask, synth.gradient_background((w, h), drop=0.4)), mask, g)["background.uniform"]
    assert grad.ok is False and grad.value["gradient"] > CHSI.background_gradient_max
    busy = run(synth.composite(rgb, mask, synth.cluttered_background((w, h))), mask, g)["background.uniform"]
    assert busy.ok is False and "Cluttered" in busy.message_en


@pytest.mark.parametrize("shirt, hue", [((40, 70, 200), "blue"), ((230, 200, 40), "yellow"), ((40, 150, 60), "green"),
                                        ((120, 50, 160), "purple"), ((20, 30, 90), "blue")])
def test_forbidden_shirts_on_blue(shirt, hue):
    rgb, mask, g = synth.drawn_portrait(shirt=shirt)
    c = run(rgb, mask, g)["clothing.color"]
    assert c.ok is False and c.value["hue"] == hue, c.value


@pytest.mark.parametrize("shirt", [(245, 245, 245), (30, 30, 30), (200, 40, 40), (190, 180, 170)])
def test_allowed_shirts_on_blue(shirt):
    rgb, mask, g = synth.drawn_portrait(shirt=shirt)
    assert run(rgb, mask, g)["clothing.color"].ok is True


def test_shirt_like_the_background():
    rgb, mask, g = synth.drawn_portrait(shirt=(250, 250, 250), background=(255, 255, 255))
    c = run(rgb, mask, g)["clothing.color"]
    assert c.ok is False and c.value["delta_e_background"] < CHSI.clothing_delta_e_min


def test_yellow_shirt_is_fine_on_white():
    # The colour rule is about the blue background; on white only "too close" applies.
    rgb, mask, g = synth.drawn_portrait(shirt=(230, 200, 40), background=(255, 255, 255))
    assert run(rgb, mask, g)["clothing.color"].ok is True


def test_tilted_shoulders(drawn):
    rgb, mask, g = drawn
    img, m = rgb.copy(), mask.copy()
    xs, y0, d = int(g.centre_x + 0.55 * g.face_width), int(g.chin_y), int(0.4 * g.face_width)
    img[y0 + d:, xs:], m[y0 + d:, xs:] = rgb[y0:-d, xs:], mask[y0:-d, xs:]
    img[y0:y0 + d, xs:], m[y0:y0 + d, xs:] = synth.BLUE, 0
    c = run(img, m, g)["shoulders.level"]
    assert c.ok is False and abs(c.value) > CHSI.shoulder_tilt_max_deg


def test_shoulders_out_of_frame_cannot_be_measured(drawn):
    rgb, mask, g = drawn
    cut = int(g.chin_y + 0.05 * g.face_width)
    c = run(rgb[:cut], mask[:cut], g)["shoulders.level"]
    assert c.ok is None and "cannot be measured" in c.message_en


def test_exposure_contrast_lighting_sharpness(drawn):
    rgb, mask, g = drawn
    assert run(synth.darken(rgb, 0.1), mask, g)["exposure"].ok is False
    bright = np.clip(rgb.astype(np.float32) * 1.9, 0, 255).astype(np.uint8)
    assert run(bright, mask, g)["exposure"].ok is False
    flat = (rgb.astype(np.float32) * 0.3 + 150).astype(np.uint8)
    assert run(flat, mask, g)["contrast"].ok is False
    lit = run(synth.half_shadow(rgb, g.eye_mid_x, 0.3), mask, g)["lighting.balance"]
    assert lit.ok is False and lit.value > CHSI.lighting_balance_max
    soft = run(synth.blur(rgb, 3.0), mask, g)["sharpness"]
    assert soft.ok is False and soft.value["laplacian_var"] < CHSI.sharpness_min


def test_framing_needs_room_and_resolution(drawn):
    rgb, mask, g = drawn
    # The same portrait with the head against the left edge: no crop meets the bands inside the picture.
    dx = int(g.face_left - 20)
    shifted = g.scaled(1.0, dx=dx)
    c = run(np.ascontiguousarray(rgb[:, dx:]), np.ascontiguousarray(mask[:, dx:]), shifted)["framing"]
    assert c.ok is False and c.value["code"] == "framing.out_of_frame"
    # A quarter of the resolution: the face is 120 px wide, below the 180 px the output needs.
    small = g.scaled(0.25)
    c = run(np.ascontiguousarray(rgb[::4, ::4]), np.ascontiguousarray(mask[::4, ::4]), small)["framing"]
    assert c.ok is False and c.value["code"] == "framing.too_small"
