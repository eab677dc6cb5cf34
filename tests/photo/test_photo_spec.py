"""The spec as data: every threshold has a source, derived values match the written ones, and the
report helpers (verdict, CIEDE2000) behave."""

from __future__ import annotations

import dataclasses

import pytest

from tucai.photo.checks import CHECK_IDS, CheckResult
from tucai.photo.checks._base import ciede2000, rgb_to_lab
from tucai.photo.report import build, verdict_for
from tucai.photo.spec import CHSI, PRINT_SIZES, PROFILES, SHEET_SIZES, SOURCES, Band, get_profile, mm_to_px

# Fields that describe the product rather than a threshold.
NOT_THRESHOLDS = {"id", "title_zh", "title_en", "jpeg_quality_start"}


def test_every_profile_number_has_a_source():
    for f in dataclasses.fields(CHSI):
        if f.name in NOT_THRESHOLDS:
            continue
        assert f.name in SOURCES, f"{f.name} has no source in spec.SOURCES"


def test_sources_name_only_known_fields_and_known_references():
    names = {f.name for f in dataclasses.fields(CHSI)}
    assert set(SOURCES) <= names
    for v in SOURCES.values():
        assert any(ref in v for ref in ("CHSI2017", "XINHUA_HN", "NOTICE2024", "ISO19794", "TUCAI")), v


def test_canvas_and_bands_as_written():
    assert (CHSI.width, CHSI.height, CHSI.dpi, CHSI.jpeg_quality_min) == (480, 640, 300, 60)
    assert (CHSI.crown_y, CHSI.eye_y, CHSI.face_width) == (Band(50, 110), Band(200, 300), Band(180, 300))
    assert CHSI.eye_y.mid == 250 and CHSI.aspect == pytest.approx(0.75)
    assert CHSI.background("blue").rgb == (100, 197, 255)
    # 480×640 at 300 dpi is 40.6 × 54.2 mm: about a 1.5寸 print.
    assert CHSI.width / CHSI.dpi * 25.4 == pytest.approx(40.64) and CHSI.height / CHSI.dpi * 25.4 == pytest.approx(54.19, abs=0.01)
    # The bands as shares of the canvas height, as notices quote them.
    assert CHSI.eye_y.lo / CHSI.height == pytest.approx(0.3125) and CHSI.eye_y.hi / CHSI.height == pytest.approx(0.46875)
    for p in PROFILES.values():
        for band in (p.crown_y, p.eye_y, p.face_width, p.size_kb, p.exposure_face_l):
            assert band.lo < band.hi


def test_mm_to_px():
    assert mm_to_px(25.4) == 300 and mm_to_px(1) == 12 and 300 / 25.4 == pytest.approx(11.811, abs=1e-3)
    assert PRINT_SIZES["1inch"].px() == (295, 413)
    assert PRINT_SIZES["1.5inch"].px() == (390, 567)
    assert SHEET_SIZES["6inch"].px() == (1205, 1795)


def test_profiles_share_geometry_and_differ_in_size_window():
    assert get_profile("chsi-30kb").size_kb == Band(30, 60)
    assert get_profile("chsi-100kb").eye_y == CHSI.eye_y
    with pytest.raises(KeyError):
        get_profile("passport")


def test_check_lists_in_the_spec_are_real_checks():
    assert set(CHSI.required_measurable) <= set(CHECK_IDS)
    hues = {name for name, _, _ in CHSI.clothing_hues}
    assert set(CHSI.forbidden_clothing_hues) <= hues
    spans = sorted((lo, hi) for _, lo, hi in CHSI.clothing_hues)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))          # no overlapping hue ranges


@pytest.mark.parametrize("lab1, lab2, expected", [
    # Sharma, Wu & Dalal (2005), test data for CIEDE2000.
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
])
def test_ciede2000_reference_values(lab1, lab2, expected):
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert ciede2000(lab2, lab1) == pytest.approx(expected, abs=1e-4)


def test_reference_blue_in_lab():
    L, a, b = rgb_to_lab((100, 197, 255))
    assert L == pytest.approx(75.9, abs=0.3) and b < -30


def _c(id: str, ok):
    return CheckResult(id, ok, None, None, "zh", "en")


def test_verdict_rules():
    assert verdict_for([_c("face.count", True), _c("sharpness", True)], CHSI) == "pass"
    assert verdict_for([_c("face.count", True), _c("sharpness", False)], CHSI) == "retake"
    # Unmeasurable: fine for an optional check, a retake for a required one.
    assert verdict_for([_c("face.count", True), _c("glasses.glare", None)], CHSI) == "pass"
    assert verdict_for([_c("face.count", True), _c("pose.yaw", None)], CHSI) == "retake"
    rep = build(file="a.jpg", profile=CHSI, verdict="retake", checks=[_c("pose.yaw", None), _c("sharpness", False)])
    assert [r["id"] for r in rep["retake_reasons"]] == ["pose.yaw", "sharpness"] and rep["unmeasured"] == ["pose.yaw"]
