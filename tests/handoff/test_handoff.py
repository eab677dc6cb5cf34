"""The hand-off package for the upload to CHSI: what goes in, what is left out and why, names,
the index, nothing half-written, the audit entry, the command line."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from tests.handoff.conftest import spec_jpeg
from tucai.audit.models import AuditEntry
from tucai.campaigns.models import StudentStatus
from tucai.core.errors import TucaiError
from tucai.handoff.services import file_problem, handoff_build, handoff_collect


def _csv(zf: zipfile.ZipFile, name: str) -> list[list[str]]:
    text = zf.read(name).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel opens UTF-8 with a BOM
    return list(csv.reader(io.StringIO(text[1:])))


def test_package_holds_each_accepted_photo_named_by_id_number_with_index_and_missing_list(
        campaign, make_student, photograph, tmp_path, office_user):
    a, b, c = make_student(name="甲"), make_student(name="乙"), make_student(name="丙")
    make_student(name="丁", status=StudentStatus.INACTIVE)  # left the roster: neither shipped nor missing
    shot_a = photograph(a, code="TC1-token-of-a")
    shot_c = photograph(c)
    # c's stored file is damaged after acceptance (wrong size): it must not be shipped.
    with default_storage.open(shot_c.normalized.name, "wb") as fh:
        fh.write(spec_jpeg(7, size=(400, 500)))

    out = tmp_path / "chsi.zip"
    result = handoff_build(campaign=campaign, out=out, actor=office_user)
    assert [e.student for e in result.included] == [a]
    assert [(e.student, e.reason) for e in result.missing] == [(b, "photo.none")]
    assert [(e.student, e.reason) for e in result.invalid] == [(c, "file.wrong_size")]

    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == sorted([f"{a.doc_number}.jpg", "index.csv", "index.xlsx", "missing.csv"])
        info = zf.getinfo(f"{a.doc_number}.jpg")
        assert info.compress_type == zipfile.ZIP_STORED
        with shot_a.normalized.open("rb") as fh:
            assert zf.read(info) == fh.read()
        index = _csv(zf, "index.csv")
        assert index[0][:5] == ["文件名", "学号", "姓名", "证件类型", "证件号码"]
        assert index[1][:3] == [f"{a.doc_number}.jpg", a.student_no, "甲"]
        assert "TC1-token-of-a" in index[1]  # the scanned code travels with the photo
        missing = _csv(zf, "missing.csv")
        assert [r[:2] for r in missing[1:]] == [[b.student_no, "乙"], [c.student_no, "丙"]]
    entry = AuditEntry.objects.get(action="handoff.build")
    assert entry.actor == office_user and entry.changes["included"] == [None, 1]
    assert entry.changes["sha256"][1] == result.sha256 and result.size == out.stat().st_size


def test_require_all_writes_nothing_while_someone_is_missing(campaign, make_student, photograph, tmp_path):
    photograph(make_student())
    make_student()
    out = tmp_path / "chsi.zip"
    with pytest.raises(TucaiError) as exc:
        handoff_build(campaign=campaign, out=out, require_all=True)
    assert exc.value.code == "handoff.incomplete"
    assert list(tmp_path.iterdir()) == [tmp_path / "media"]  # no zip, no partial file
    assert not AuditEntry.objects.filter(action="handoff.build").exists()


def test_a_failure_while_writing_leaves_the_old_package_and_no_partial_file(campaign, make_student, photograph,
                                                                            tmp_path, monkeypatch):
    photograph(make_student())
    out = tmp_path / "chsi.zip"
    out.write_bytes(b"the previous package")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", boom)
    with pytest.raises(OSError):
        handoff_build(campaign=campaign, out=out)
    assert out.read_bytes() == b"the previous package"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chsi.zip", "media"]


def test_naming_patterns_and_their_errors(campaign, make_student, photograph, tmp_path):
    s1, s2 = make_student(name="同名"), make_student(name="同名")
    photograph(s1)
    photograph(s2)
    result = handoff_collect(campaign=campaign, naming="{student_no}_{name}")
    assert sorted(e.filename for e in result.included) == sorted(f"{s.student_no}_同名.jpg" for s in (s1, s2))
    for naming, code in (("{name}", "handoff.duplicate_name"), ("{password}", "handoff.bad_naming"),
                         ("plain", "handoff.bad_naming"), ("{doc_number", "handoff.bad_naming")):
        with pytest.raises(TucaiError) as exc:
            handoff_collect(campaign=campaign, naming=naming)
        assert exc.value.code == code, naming
    with pytest.raises(TucaiError) as exc:
        handoff_build(campaign=campaign, out=tmp_path / "x.tar")
    assert exc.value.code == "handoff.bad_target"


def test_nothing_to_hand_off_is_an_error(campaign, make_student, tmp_path):
    make_student()
    with pytest.raises(TucaiError) as exc:
        handoff_build(campaign=campaign, out=tmp_path / "x.zip")
    assert exc.value.code == "handoff.empty" and not (tmp_path / "x.zip").exists()


@pytest.mark.parametrize("make, problem", [
    (lambda: spec_jpeg(1), ""),
    (lambda: spec_jpeg(1, progressive=True), "file.not_baseline_jpeg"),
    (lambda: spec_jpeg(1, size=(481, 640)), "file.wrong_size"),
    (lambda: spec_jpeg(1, window_kb=(41, 200)), "file.size_window"),
    (lambda: spec_jpeg(1, window_kb=(5, 19.9)), "file.size_window"),
    (lambda: b"not an image", "file.unreadable"),
])
def test_file_check(make, problem):
    assert file_problem(make(), profile_id="chsi") == problem


def test_file_check_refuses_png_and_greyscale():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (480, 640), (100, 197, 255)).save(buf, "PNG")
    assert file_problem(buf.getvalue(), profile_id="chsi") == "file.not_baseline_jpeg"
    for q in range(95, 5, -5):  # a greyscale JPEG inside the size window: refused for its colour alone
        grey = io.BytesIO()
        Image.effect_noise((480, 640), 30).save(grey, "JPEG", quality=q)
        if 20 <= len(grey.getvalue()) / 1024 <= 40:
            break
    assert file_problem(grey.getvalue(), profile_id="chsi") == "file.not_colour"


def test_command_line_check_and_build(campaign, make_student, photograph, tmp_path, capsys):
    a = make_student()
    b = make_student()
    photograph(a)
    call_command("handoff", "check", "--campaign", campaign.code, "--json")
    data = json.loads(capsys.readouterr().out)
    assert (data["included"], data["missing"]) == (1, 1) and data["left_out"][0]["student_no"] == b.student_no
    out = tmp_path / "pkg.zip"
    call_command("handoff", "build", "--campaign", campaign.code, str(out), "--naming", "{student_no}")
    text = capsys.readouterr().out
    assert "可交付 1 人" in text and "已生成" in text
    with zipfile.ZipFile(out) as zf:
        assert f"{a.student_no}.jpg" in zf.namelist()
    with pytest.raises(CommandError, match="handoff.incomplete"):
        call_command("handoff", "build", "--campaign", campaign.code, str(tmp_path / "all.zip"), "--require-all")
    with pytest.raises(CommandError, match="no campaign"):
        call_command("handoff", "check", "--campaign", "nope")


def test_names_in_chinese_are_flagged_utf8_and_formula_cells_are_neutralised(campaign, make_student, photograph,
                                                                              tmp_path):
    s = make_student(name="=HYPERLINK(\"x\")")
    photograph(s)
    t = make_student(name="欧阳娜娜")
    photograph(t)
    out = tmp_path / "p.zip"
    handoff_build(campaign=campaign, out=out, naming="{student_no}{name}")
    with zipfile.ZipFile(out) as zf:
        info = zf.getinfo(f"{t.student_no}欧阳娜娜.jpg")
        assert info.flag_bits & 0x800  # UTF-8 names: Windows' and macOS' unzip show them right
        names = [row[2] for row in _csv(zf, "index.csv")[1:]]
        assert "'=HYPERLINK(\"x\")" in names and "欧阳娜娜" in names


def test_truncated_and_lost_files_are_left_out_with_their_reason(campaign, make_student, photograph, tmp_path):
    a, b, c = make_student(), make_student(), make_student()
    photograph(a)
    shot_b, shot_c = photograph(b), photograph(c)
    with default_storage.open(shot_b.normalized.name, "rb") as fh:
        data = fh.read()
    with default_storage.open(shot_b.normalized.name, "wb") as fh:
        fh.write(data[: len(data) // 2])
    default_storage.delete(shot_c.normalized.name)
    result = handoff_collect(campaign=campaign)
    assert [e.student for e in result.included] == [a]
    assert {(e.student, e.reason) for e in result.invalid} == {(b, "file.unreadable"), (c, "file.missing")}


@pytest.mark.parametrize("naming", ["{name:d}", "{name:>{student_no}}", "{name!r}", "{doc_number:>9999}"])
def test_patterns_with_format_specs_or_conversions_are_refused(campaign, make_student, naming):
    make_student()
    with pytest.raises(TucaiError) as exc:
        handoff_collect(campaign=campaign, naming=naming, check_files=False)
    assert exc.value.code == "handoff.bad_naming"


@pytest.mark.parametrize("name, expected", [
    ("-甲", "_甲.jpg"), ("CON", "CON_.jpg"), ("a\u202eb", "a_b.jpg"), ("\u3000张三\u3000", "张三.jpg"),
    ("..x..", "x.jpg"), ("a/b:c", "a_b_c.jpg"),
])
def test_file_names_are_safe_on_every_system(campaign, make_student, photograph, name, expected):
    photograph(make_student(name=name))
    result = handoff_collect(campaign=campaign, naming="{name}")
    assert [e.filename for e in result.included] == [expected]


def test_overlong_names_and_case_twins_are_refused(campaign, make_student, photograph):
    photograph(make_student(name="长" * 80))
    with pytest.raises(TucaiError) as exc:
        handoff_collect(campaign=campaign, naming="{name}", check_files=False)
    assert exc.value.code == "handoff.bad_naming"
    # Two ID numbers that differ only in the case of the check letter make the same file name.
    photograph(make_student(doc_number="43052120020101001X"))
    photograph(make_student(doc_number="43052120020101001x"))
    with pytest.raises(TucaiError) as exc:
        handoff_collect(campaign=campaign, naming="{doc_number}", check_files=False)
    assert exc.value.code == "handoff.duplicate_name"


def test_a_storage_error_stops_the_build_instead_of_dropping_the_student(campaign, make_student, photograph,
                                                                        tmp_path, monkeypatch):
    import errno

    from django.core.files.storage import FileSystemStorage

    photograph(make_student())

    def eio(self, name, mode="rb"):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(FileSystemStorage, "_open", eio)
    with pytest.raises(TucaiError) as exc:
        handoff_build(campaign=campaign, out=tmp_path / "p.zip")
    assert exc.value.code == "handoff.storage_error"
    assert not (tmp_path / "p.zip").exists()


def test_a_directory_or_unwritable_target_is_a_clear_error(campaign, make_student, photograph, tmp_path):
    photograph(make_student())
    (tmp_path / "x.zip").mkdir()
    with pytest.raises(TucaiError) as exc:
        handoff_build(campaign=campaign, out=tmp_path / "x.zip")
    assert exc.value.code == "handoff.bad_target"
    with pytest.raises(TucaiError) as exc:
        handoff_build(campaign=campaign, out=tmp_path / "nowhere" / "p.zip")
    assert exc.value.code == "handoff.bad_target"


def test_index_workbook_keeps_id_numbers_as_text_and_a_retaken_photo_is_missing(
        campaign, make_student, photograph, tmp_path, operator_user):
    import openpyxl

    from tucai.stations.services import shot_retake

    a, b = make_student(), make_student()
    photograph(a)
    shot_retake(shot=photograph(b), actor=operator_user, note="闭眼")  # spotted later: back to the make-up list
    out = tmp_path / "p.zip"
    result = handoff_build(campaign=campaign, out=out)
    assert [e.student for e in result.missing] == [b]
    with zipfile.ZipFile(out) as zf:
        wb = openpyxl.load_workbook(io.BytesIO(zf.read("index.xlsx")))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[1][4] == a.doc_number.upper() and isinstance(rows[1][4], str)
    assert [r[0] for r in list(wb.worksheets[1].iter_rows(values_only=True))[1:]] == [b.student_no]
