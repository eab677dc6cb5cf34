"""pipeline.process: the API the capture station uses. Never raises for bad images, reports in the
documented schema, normalises when the framing allows, and is safe to call from several threads."""

from __future__ import annotations

import io
import json
import threading

import numpy as np
import pytest
from PIL import Image

from tucai.photo import synth
from tucai.photo.pipeline import ProcessResult, process
from tucai.photo.report import SCHEMA_VERSION, VERDICTS

TOP_KEYS = {"schema", "file", "profile", "verdict", "error", "checks", "retake_reasons", "unmeasured", "timing_ms",
            "timings_ms", "image", "geometry", "normalized"}
CHECK_KEYS = {"id", "ok", "value", "limit", "message_zh", "message_en", "heuristic"}


def _schema_ok(rep: dict) -> None:
    assert set(rep) == TOP_KEYS and rep["schema"] == SCHEMA_VERSION and rep["verdict"] in VERDICTS
    assert isinstance(rep["timing_ms"], float) and rep["timing_ms"] >= 0
    for c in rep["checks"]:
        assert set(c) == CHECK_KEYS and c["ok"] in (True, False, None) and c["message_zh"] and c["message_en"]
    json.dumps(rep, ensure_ascii=False, allow_nan=False)     # plain JSON, no NaN


@pytest.mark.parametrize("data, code", [
    (b"", "decode.empty"), (b"garbage, not an image", "decode.unsupported_format"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "decode.corrupt"),
])
def test_bad_input_gives_error_verdict_not_exception(data, code):
    r = process(data, filename="bad.jpg")
    assert isinstance(r, ProcessResult) and r.verdict == "error" and r.error_code == code
    _schema_ok(r.report)
    assert r.report["error"]["message"] and r.report["error"]["message_en"] and r.report["file"] == "bad.jpg"
    assert r.normalized_jpeg is None and r.geometry is None and r.report["checks"] == []


def test_missing_path_gives_error_verdict(tmp_path):
    r = process(tmp_path / "nope.jpg")
    assert r.verdict == "error" and r.error_code == "decode.not_found" and r.report["file"].endswith("nope.jpg")


def test_unknown_profile_is_a_programming_error():
    with pytest.raises(KeyError):
        process(b"x", profile="nope")


def test_no_face_photo_is_a_retake_with_reasons(photo_models):
    rgb = np.full((600, 450, 3), (100, 197, 255), np.uint8)
    r = process(synth.jpeg_bytes(rgb))
    _schema_ok(r.report)
    assert r.verdict == "retake" and r.geometry is None and r.normalized_jpeg is None
    reasons = [x["id"] for x in r.report["retake_reasons"]]
    assert reasons[0] == "face.count"
    # Checks that need a face say they could not measure, and are listed as unmeasured.
    assert "pose.yaw" in r.report["unmeasured"] and "pose.yaw" in reasons


def test_compliant_photo_pass_and_normalised_output(compliant):
    data = synth.jpeg_bytes(compliant.rgb, 95)
    r = process(data, filename="IMG_0001.JPG")
    _schema_ok(r.report)
    assert r.verdict == "pass" and r.ok and r.report["retake_reasons"] == []
    im = Image.open(io.BytesIO(r.normalized_jpeg))
    assert im.format == "JPEG" and im.size == (480, 640) and im.mode == "RGB"
    assert im.info.get("dpi") == (300, 300) and not im.info.get("progressive")
    n = r.report["normalized"]
    g = n["geometry"]
    assert 50 <= g["crown_y"] <= 110 and 200 <= g["eye_y"] <= 300 and 180 <= g["face_right"] - g["face_left"] <= 300
    assert 20_000 <= n["size_bytes"] <= 40_960 and n["size_ok"]
    # The crop lies inside the original and has the canvas aspect.
    x0, y0, x1, y1 = n["crop"]
    w, h = r.report["image"]["width"], r.report["image"]["height"]
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h and (x1 - x0) / (y1 - y0) == pytest.approx(0.75, abs=0.01)
    assert r.report["geometry"]["eye_y"] == pytest.approx(r.geometry.eye_y, abs=0.1)
    assert set(r.report["timings_ms"]) >= {"decode", "analyse", "checks", "normalize", "total"}


def test_normalize_false_and_failed_framing_give_no_jpeg(compliant):
    assert process(synth.jpeg_bytes(compliant.rgb), normalize=False).normalized_jpeg is None
    cut = compliant.rgb[int(compliant.geometry.eye_y - 0.2 * compliant.geometry.face_width):]
    r = process(synth.jpeg_bytes(cut))
    assert r.verdict == "retake" and r.normalized_jpeg is None and r.report["normalized"] is None


def test_bytes_path_and_str_agree(compliant, tmp_path):
    data = synth.jpeg_bytes(compliant.rgb)
    p = tmp_path / "a.jpg"
    p.write_bytes(data)
    a, b, c = process(data, normalize=False), process(p, normalize=False), process(str(p), normalize=False)
    assert a.report["checks"] == b.report["checks"] == c.report["checks"]
    assert b.report["file"] == str(p)


def test_internal_failure_is_reported_not_raised(compliant, monkeypatch):
    from tucai.photo import checks

    def boom(*a, **k):
        raise RuntimeError("bug")

    monkeypatch.setattr(checks, "run_checks", boom)
    r = process(synth.jpeg_bytes(compliant.rgb))
    assert r.verdict == "error" and r.error_code == "analysis.internal"


def test_threads_share_the_models_safely(compliant):
    data = synth.jpeg_bytes(compliant.rgb)
    blurred = synth.jpeg_bytes(synth.blur(compliant.rgb, 4.0))
    results: dict[int, str] = {}

    def work(i: int) -> None:
        results[i] = process(data if i % 2 == 0 else blurred, normalize=False).verdict

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(8)] == ["pass", "retake"] * 4


def test_no_django_import():
    import subprocess
    import sys

    code = ("import sys; import tucai.photo.pipeline, tucai.photo.cli, tucai.photo.synth; "
            "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')], 'django imported'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_a_strip_one_pixel_wide_is_measured_on_a_bounded_copy():
    # A 1 × 4096 image once became a 240 × 983,040 px copy for the contrast check (GBs of memory).
    from tucai.photo import analysis, checks
    from tucai.photo.checks._base import WINDOW_MAX_ASPECT, WINDOW_WIDTH
    from tucai.photo.decode import load
    from tucai.photo.spec import get_profile

    buf = io.BytesIO()
    Image.fromarray(np.full((4096, 1, 3), 120, np.uint8)).save(buf, "PNG")
    r = process(buf.getvalue(), normalize=False)
    assert r.verdict == "retake"
    prof = get_profile("chsi")
    _, ctx = checks.run_checks(analysis.analyse(load(buf.getvalue()), prof), prof)
    small, _ = ctx.window_small
    assert small.shape[0] <= WINDOW_MAX_ASPECT * WINDOW_WIDTH


def test_a_file_outside_the_size_window_is_a_retake_not_a_pass(compliant):
    from dataclasses import replace

    from tucai.photo.spec import CHSI, Band

    r = process(synth.jpeg_bytes(compliant.rgb), profile=replace(CHSI, size_kb=Band(900, 1000)), normalize=True)
    assert r.report["normalized"]["size_ok"] is False
    assert r.verdict == "retake"
    assert [x["id"] for x in r.report["retake_reasons"]] == ["normalize.size_window"]
    msg = r.report["retake_reasons"][0]["message_en"]
    assert "too small" in msg and f"{r.report['normalized']['size_bytes']} bytes" in msg and "921600" in msg
