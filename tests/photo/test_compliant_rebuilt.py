"""No compliant photo refused for the wrong reason (issue 3): the rebuilt compliant portraits of
``synth.compliant_portrait`` carry no compositing smudges and fit the CHSI crop, and shoulders.level
does not read hair as a shoulder nor clip a raised shoulder at the chin.

The synth and shoulder tests run on drawn images (no face model); the rebuilds from real photos skip
without ../shared/faces."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from tucai.photo import checks, synth
from tucai.photo.spec import CHSI


def shoulders(rgb, mask, g):
    results, _ = checks.run_checks(synth.drawn_analysis(rgb, mask, g), CHSI)
    return next(c for c in results if c.id == "shoulders.level")


# --- compositing ----------------------------------------------------------------------------------

def test_clean_alpha_keeps_the_person_and_drops_what_segmentation_half_included():
    h, w, fw, chin = 400, 400, 100.0, 200.0
    alpha = np.zeros((h, w), np.float32)
    cv2.ellipse(alpha, (200, 130), (50, 70), 0, 0, 360, 1.0, -1)          # the head (confident)
    cv2.rectangle(alpha, (175, 190), (225, 240), 1.0, -1)                  # the neck
    cv2.rectangle(alpha, (100, 230), (300, 399), 1.0, -1)                  # the body
    cv2.rectangle(alpha, (250, 60), (330, 190), 0.7, -1)                   # a statue beside the head, half-included
    cv2.rectangle(alpha, (300, 300), (380, 399), 0.7, -1)                  # a dark sleeve on a dark backdrop
    cv2.circle(alpha, (40, 40), 20, 0.95, -1)                              # a logo, not joined to the person
    hard = synth.clean_person_alpha(alpha, seed_xy=(200, 150), face_width=fw, chin_y=chin)
    assert hard[130, 200] == 1 and hard[350, 200] == 1                     # head and body kept
    assert hard[40, 40] == 0                                               # the detached logo dropped
    assert hard[120, 310] == 0                                             # the wide zone beside the head dropped
    assert hard[350, 350] == 1                                             # the half-confident sleeve kept


def test_edge_colours_come_from_the_person_not_the_old_backdrop():
    # A red person whose outer 6 px still hold the yellow wall it was photographed against; the colour
    # is known only 8 px or more inside the segmented edge (radius 66).
    h, w = 200, 200
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:] = (230, 210, 40)
    cv2.circle(rgb, (100, 100), 60, (200, 30, 30), -1)
    disc = lambda radius: cv2.circle(np.zeros((h, w), np.uint8), (100, 100), radius, 1, -1) > 0  # noqa: E731
    out = synth.person_colours(rgb, disc(58), reach_px=8)
    ring = disc(66) & ~disc(60)
    assert np.abs(out[ring].astype(int) - (200, 30, 30)).max() < 8      # no yellow left at the edge
    assert (out[disc(58)] == rgb[disc(58)]).all()                        # the known interior untouched


def test_a_white_wall_fringe_inside_the_mask_is_cut_away(real_face, photo_models):
    # deepface_img13: a white studio wall; the segmentation's edge lies a few px out in the wall beside
    # the ear and hair. The rebuilt image has no near-white pixels in the band around the head.
    rgb, al = synth.compliant_portrait(real_face("deepface_img13.jpg"))
    edge = (al > 0.05) & (al < 0.95)
    edge[int(0.55 * rgb.shape[0]):] = False                               # the head's outline only
    near_white = (rgb.min(axis=2) > 225) & edge
    assert near_white.sum() < 0.01 * edge.sum(), (near_white.sum(), edge.sum())


# --- shoulders.level ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def drawn():
    return synth.drawn_portrait()


def test_long_hair_over_a_shoulder_is_not_a_tilt(drawn):
    rgb, mask, g = drawn
    img, m = rgb.copy(), mask.copy()
    fw = g.face_width
    # Hair falling from the head over the left shoulder, down past the bottom of the picture.
    x0, x1 = int(g.centre_x - 1.1 * fw), int(g.centre_x - 0.5 * fw)
    img[int(g.eye_y):, max(0, x0):x1] = (35, 28, 24)
    m[int(g.eye_y):, max(0, x0):x1] = 1.0
    c = shoulders(img, m, g)
    assert c.ok is None and "hides a shoulder" in c.message_en, (c.ok, c.value, c.message_en)


def test_a_shoulder_raised_above_the_chin_is_measured_not_clipped(drawn):
    rgb, mask, g = drawn
    level = shoulders(rgb, mask, g)
    assert level.ok is True and abs(level.value) < 1
    fw = g.face_width
    xs, d = int(g.centre_x + 0.6 * fw), int(0.45 * fw)
    img, m = rgb.copy(), mask.copy()
    # The right side of the picture moved up by d: that shoulder's top rises above the chin line.
    img[:-d, xs:], m[:-d, xs:] = rgb[d:, xs:], mask[d:, xs:]
    img[-d:, xs:], m[-d:, xs:] = rgb[-1:, xs:], mask[-1:, xs:]
    c = shoulders(img, m, g)
    # Both sides are sampled over the same columns, so the tilt is the rise over their distance.
    dx = 2 * np.median([k * fw for k in np.linspace(0.75, 1.05, 7) if g.centre_x + k * fw < rgb.shape[1]])
    expected = -math.degrees(math.atan2(d, dx))
    assert c.ok is False and abs(c.value - expected) < 1.0, (c.value, expected)


# --- lighting.balance ----------------------------------------------------------------------------

def lighting(rgb, mask, g):
    results, _ = checks.run_checks(synth.drawn_analysis(rgb, mask, g), CHSI)
    return next(c for c in results if c.id == "lighting.balance")


def test_hair_over_part_of_a_cheek_is_not_a_shadow(drawn):
    rgb, mask, g = drawn
    fw = g.face_width
    img = rgb.copy()
    # The drawn right cheek patch spans 0.18–0.30 face widths left of the centre; hair falling along
    # the side of the face covers its outer 60 % (over half its pixels: the median would be hair).
    x0, x1 = int(g.centre_x - 0.31 * fw), int(g.centre_x - (0.30 - 0.6 * 0.12) * fw)
    img[:, x0:x1] = (35, 28, 24)
    c = lighting(img, mask, g)
    assert c.ok is True, c.value
    # A shadow over that whole side still fails.
    c = lighting(synth.half_shadow(np.ascontiguousarray(img[:, ::-1]), g.centre_x, 0.3)[:, ::-1], mask, g)
    assert c.ok is False and c.value > CHSI.lighting_balance_max, c.value


# --- rebuilt from real photos ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["compreface_personD-img1.jpg", "compreface_einstein.jpg"])
def test_a_head_with_high_hair_is_rebuilt_inside_the_chsi_crop(real_face, photo_models, run_photo, check_of, name):
    # Big hair: with the eyes at 250 px the crown would sit above the 50 px line (framing.out_of_frame).
    rgb, _ = synth.compliant_portrait(real_face(name))
    c = check_of(run_photo(rgb), "framing")
    assert c["ok"] is True, c


@pytest.mark.parametrize("name", ["deepface_img37.jpg", "compreface_einstein.jpg"])
def test_the_rebuilt_background_has_no_compositing_smudges(real_face, photo_models, run_photo, check_of, name):
    # Sources whose segmentation half-includes a statue and a logo (img37) or a dark backdrop (einstein).
    rgb, _ = synth.compliant_portrait(real_face(name))
    c = check_of(run_photo(rgb), "background.uniform")
    assert c["ok"] is True, c
