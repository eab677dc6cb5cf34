"""tucai photo check / normalize / sheet: output, exit codes, atomic writes."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from tucai.photo import synth
from tucai.photo.cli import main


@pytest.fixture
def files(tmp_path, compliant):
    good = tmp_path / "good.jpg"
    good.write_bytes(synth.jpeg_bytes(compliant.rgb))
    blurred = tmp_path / "blurred.jpg"
    blurred.write_bytes(synth.jpeg_bytes(synth.blur(compliant.rgb, 4.0)))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(good.read_bytes()[:3000])
    return good, blurred, broken


def test_check_json_lines_and_exit_codes(files, capsys):
    good, blurred, broken = files
    assert main(["photo", "check", str(good), "--json"][1:]) == 0
    line = json.loads(capsys.readouterr().out.strip())
    assert line["file"] == str(good) and line["verdict"] == "pass" and line["error"] is None
    assert {"id", "ok", "value", "limit", "message_zh", "message_en"} <= set(line["checks"][0])

    assert main(["check", str(good), str(blurred), "--json"]) == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["verdict"] for x in lines] == ["pass", "retake"]
    sharp = next(c for c in lines[1]["checks"] if c["id"] == "sharpness")
    assert sharp["ok"] is False

    assert main(["check", str(good), str(broken), "--json"]) == 2
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[1]["verdict"] == "error" and lines[1]["error"]["code"] == "decode.truncated"
    assert lines[1]["error"]["message"] and lines[1]["checks"] == []


def test_check_human_output(files, capsys):
    good, blurred, _ = files
    assert main(["check", str(blurred)]) == 1
    out = capsys.readouterr().out
    assert "需重拍" in out and "✗ sharpness" in out and "对焦" in out
    assert main(["check", str(blurred), "--lang", "en"]) == 1
    assert "focus" in capsys.readouterr().out


def test_normalize_writes_480x640(files, tmp_path, capsys):
    good, blurred, broken = files
    out = tmp_path / "out.jpg"
    assert main(["normalize", str(good), str(out)]) == 0
    im = Image.open(out)
    assert im.size == (480, 640) and im.format == "JPEG"
    assert not list(tmp_path.glob(".out.jpg.*"))         # no temporary file left behind
    # A retake is not written unless forced; an unreadable file never.
    out2 = tmp_path / "out2.jpg"
    assert main(["normalize", str(blurred), str(out2)]) == 1 and not out2.exists()
    assert main(["normalize", str(blurred), str(out2), "--force"]) == 1 and out2.exists()
    out3 = tmp_path / "out3.jpg"
    assert main(["normalize", str(broken), str(out3)]) == 2 and not out3.exists()
    assert "decode.truncated" in capsys.readouterr().err


def test_normalize_refuses_when_framing_impossible(compliant, tmp_path, capsys):
    small = tmp_path / "small.jpg"
    g = compliant.geometry
    small.write_bytes(synth.jpeg_bytes(compliant.rgb[int(g.crown_y + 0.2 * g.face_width):]))
    out = tmp_path / "o.jpg"
    assert main(["normalize", str(small), str(out)]) == 2 and not out.exists()
    assert "framing" in capsys.readouterr().err


def test_sheet_from_original_and_from_normalised(files, tmp_path, capsys):
    good, _, broken = files
    pdf = tmp_path / "sheet.pdf"
    assert main(["sheet", str(good), "--package", "default", str(pdf)]) == 0
    assert pdf.read_bytes()[:5] == b"%PDF-"
    norm = tmp_path / "n.jpg"
    assert main(["normalize", str(good), str(norm)]) == 0
    jpg = tmp_path / "sheet.jpg"
    assert main(["sheet", str(norm), "--package", "default", str(jpg)]) == 0
    written = sorted(tmp_path.glob("sheet*.jpg"))
    assert written and Image.open(written[0]).format == "JPEG"
    assert main(["sheet", str(broken), str(tmp_path / "x.pdf")]) == 2
    assert main(["sheet", str(good), "--package", "nope", str(tmp_path / "y.pdf")]) == 2
    capsys.readouterr()


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["check"]) == 2
    assert main(["check", "x.jpg", "--profile", "nope"]) == 2
    capsys.readouterr()


def test_tucai_entry_point_routes_photo(files, capsys):
    from tucai.cli import main as tucai_main

    good, _, _ = files
    assert tucai_main(["photo", "check", str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "pass"


def test_normalize_into_a_folder_is_a_clear_error(files, tmp_path, capsys):
    good, _, _ = files
    folder = tmp_path / "out"
    folder.mkdir()
    assert main(["normalize", str(good), str(folder)]) == 2
    assert "folder" in capsys.readouterr().err and list(folder.iterdir()) == []


def test_sheet_of_an_original_that_needs_a_retake_needs_force(files, tmp_path, capsys):
    _, blurred, _ = files
    pdf = tmp_path / "s.pdf"
    assert main(["sheet", str(blurred), str(pdf)]) == 1 and not pdf.exists()
    assert "--force" in capsys.readouterr().err
    assert main(["sheet", str(blurred), str(pdf), "--force"]) == 0 and pdf.exists()


def test_a_file_size_outside_the_upload_window_does_not_stop_the_prints(files, tmp_path, monkeypatch):
    from dataclasses import replace

    from tucai.photo import spec

    good, _, _ = files
    monkeypatch.setitem(spec.PROFILES, "chsi", replace(spec.CHSI, size_kb=spec.Band(900, 1000)))
    pdf = tmp_path / "s.pdf"
    assert main(["sheet", str(good), str(pdf)]) == 0 and pdf.exists()
