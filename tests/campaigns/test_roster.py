"""Roster import: parsing (xlsx, CSV encodings, aliases), row-level validation, all-or-nothing commit,
upsert on 学号, full re-import."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from tests.conftest import resident_id
from tucai.campaigns.models import Department, SchoolClass, Student
from tucai.campaigns.services.roster import roster_import, roster_parse, roster_validate
from tucai.core.errors import TucaiError

HEADER = ["学号", "姓名", "性别", "证件类型", "身份证号", "学院", "班级", "手机"]


def rid(n: int, area: str = "430521") -> str:
    return resident_id(area, dt.date(2002, 1, 1) + dt.timedelta(days=n), 100 + n)


def bad_check(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def clean_rows(n: int, start: int = 1) -> list[list[str]]:
    rows = []
    for i in range(start, start + n):
        rows.append([f"2021{i:05d}", f"学生{i}", "", "居民身份证", rid(i), "信息工程学院" if i % 2 else "管理艺术学院",
                     f"软件{i % 3 + 1}班" if i % 2 else f"电商{i % 3 + 1}班", f"1380000{i:04d}"])
    return rows


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", header=HEADER) -> bytes:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], *, header=HEADER, title: str | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def run(campaign, data: bytes, name: str, **kw):
    kw.setdefault("dry_run", False)
    return roster_import(campaign=campaign, file=io.BytesIO(data), filename=name, **kw)


def codes(result) -> set[tuple[int, str]]:
    return {(e.row, e.code) for e in result.errors}


# --- the messy file ------------------------------------------------------------------------

def messy_gbk_csv() -> bytes:
    """What an office's Excel-in-China export looks like on a bad day."""
    header = ["序号", "学号", "姓名", "性别", "证件类型", "身份证号码", "院系", "班级名称", "备注"]
    rows = [
        ["1", "202100001", "张三", "男", "身份证", rid(1), "信息工程学院", "软件1班", "班长"],         # row 2 ok
        ["2", "202100002", "李四", "女", "身份证", bad_check(rid(2)), "信息工程学院", "软件1班", ""],  # 3 check digit
        [],                                                                                            # 4 blank
        ["3", "202100003", "王五", "男", "身份证", "430521" + "20020230" + "1234", "信息工程学院", "软件1班", ""],
        ["4", "202100001", "赵六", "男", "身份证", rid(4), "信息工程学院", "软件1班", ""],              # 6 dup 学号
        ["5", "202100005", "钱七", "女", "身份证", rid(1), "信息工程学院", "软件1班", ""],              # 7 dup ID
        ["", "", "", "", "", "", "", "", ""],                                                          # 8 blank
        ["6", "202100006", "孙八", "男", "驾驶证", "C1234567", "信息工程学院", "软件1班", ""],          # 9 doc type
        ["7", "202100007", "周九", "不详", "身份证", rid(7), "信息工程学院", "软件1班", ""],            # 10 gender
        ["8", "202100008", "", "女", "身份证", rid(8), "信息工程学院", "软件1班", "无姓名"],            # 11 name
        ["9", "202100009", "吴十", "女", "身份证", rid(9), "管理艺术学院", "电商1班", ""],              # 12 ok
    ]
    buf = io.StringIO()
    import csv

    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    return buf.getvalue().encode("gbk")


def test_messy_gbk_csv_gives_row_errors_and_imports_nothing(campaign):
    data = messy_gbk_csv()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really GBK
    result = run(campaign, data, "名单.csv")
    assert not result.committed and not result.ok
    assert codes(result) == {
        (3, "id.check_digit"), (5, "id.birth_date"), (6, "roster.duplicate_student_no"),
        (7, "roster.duplicate_doc_number"), (9, "id.unknown_type"), (10, "roster.gender"), (11, "roster.required"),
    }
    by_row = {e.row: e for e in result.errors}
    assert by_row[3].column == "身份证号码" and by_row[3].value == bad_check(rid(2))
    assert by_row[6].column == "学号" and "第 2 行" in by_row[6].message_zh and "row 2" in by_row[6].message_en
    assert by_row[11].column == "姓名"
    assert result.ignored_columns == ["序号", "备注"]
    assert result.rows == 9  # 11 lines, two blank ones skipped
    # nothing written: no students, no departments, no classes
    assert Student.objects.count() == 0
    assert not Department.objects.filter(name="信息工程学院").exists()
    assert not SchoolClass.objects.filter(name="软件1班").exists()


def test_dry_run_reports_the_same_errors_without_writing(campaign):
    result = run(campaign, messy_gbk_csv(), "名单.csv", dry_run=True)
    assert result.dry_run and not result.committed
    assert len(result.errors) == 7
    assert Student.objects.count() == 0


# --- clean files ---------------------------------------------------------------------------

def test_bom_utf8_csv_clean_import(campaign):
    data = b"\xef\xbb\xbf" + csv_bytes(clean_rows(6))
    dry = run(campaign, data, "roster.csv", dry_run=True)
    assert dry.ok and dry.created == 6 and Student.objects.count() == 0
    assert sorted(dry.departments_created) == ["信息工程学院", "管理艺术学院"]
    result = run(campaign, data, "roster.csv")
    assert result.committed and result.created == 6
    s = Student.objects.get(student_no="202100001")
    assert s.name == "学生1" and s.doc_number == rid(1) and s.doc_type == "resident_id"
    assert s.school_class.name == "软件2班" and s.school_class.department.name == "信息工程学院"
    assert s.gender == ("M" if int(rid(1)[16]) % 2 else "F")  # from the ID when the cell is blank
    assert s.phone == "13800000001" and s.status == "active"
    assert SchoolClass.objects.filter(campaign=campaign).count() == 6


def test_utf8_without_bom_and_gb18030_csv(campaign):
    rows = clean_rows(2)
    rows[0][1] = "欧阳𠀀"  # a name outside GBK: only GB18030 can carry it
    r1 = run(campaign, csv_bytes(rows, encoding="gb18030"), "a.csv")
    assert r1.committed and Student.objects.get(student_no="202100001").name == "欧阳𠀀"
    r2 = run(campaign, csv_bytes(clean_rows(2, start=10)), "b.csv")
    assert r2.committed and r2.created == 2


def test_xlsx_clean_import_with_title_row_numbers_and_english_headers(campaign):
    header = ["Student No", "Name", "Gender", "ID Number", "College", "Class", "Mobile", "Remarks"]
    rows = [
        [202100001, "张三", "男", rid(1), "信息工程学院", "软件1班", 13800000001, "x"],
        ["202100002", "李四", "F", rid(2).lower(), "信息工程学院", "软件1班", None, None],
        [None] * 8,
        ["202100003", "王 五", "M", "11010519491231002x", "管理艺术学院", "电商1班", "138 0000 0003", None],
    ]
    result = run(campaign, xlsx_bytes(rows, header=header, title="2024届毕业生名单"), "名单.xlsx")
    assert result.ok, [e.as_dict() for e in result.errors]
    assert result.committed and result.created == 3
    assert Student.objects.get(student_no="202100001").doc_number == rid(1)
    assert Student.objects.get(student_no="202100003").doc_number == "11010519491231002X"
    assert Student.objects.get(student_no="202100003").phone == "13800000003"
    assert Student.objects.get(student_no="202100002").gender == "F"


def test_xlsx_row_numbers_count_the_title_row(campaign):
    rows = clean_rows(3)
    rows[1][4] = bad_check(rows[1][4])
    result = run(campaign, xlsx_bytes(rows, title="名单"), "x.xlsx")
    assert codes(result) == {(4, "id.check_digit")}  # title=1, header=2, rows 3.. → second data row is 4
    assert Student.objects.count() == 0


def test_id_number_stored_as_excel_number_is_reported(campaign):
    number = next(rid(i) for i in range(1, 50) if rid(i).isdigit())
    # Excel keeps numbers as doubles: 15 significant digits
    rows = [["202100001", "张三", "男", "身份证", float(number), "信息工程学院", "软件1班", None]]
    result = run(campaign, xlsx_bytes(rows), "x.xlsx")
    assert codes(result) == {(2, "roster.doc_number_numeric")}


def test_file_level_errors(campaign):
    with pytest.raises(TucaiError) as exc:
        run(campaign, b"a,b\n1,2\n", "x.csv")
    assert exc.value.code == "roster.no_header"
    with pytest.raises(TucaiError) as exc:
        run(campaign, csv_bytes([["1", "张三"]], header=["学号", "姓名"]), "x.csv")
    assert exc.value.code == "roster.missing_columns" and "身份证" not in exc.value.message_zh
    assert set(exc.value.details["missing"]) == {"doc_number", "department", "school_class"}
    with pytest.raises(TucaiError) as exc:
        run(campaign, b"whatever", "x.xls")
    assert exc.value.code == "roster.format"
    with pytest.raises(TucaiError) as exc:
        run(campaign, b"not a zip", "x.xlsx")
    assert exc.value.code == "roster.unreadable"


def test_parse_reads_paths_too(campaign, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(csv_bytes(clean_rows(2)))
    parsed = roster_parse(file=path, filename=path.name)
    assert len(parsed.rows) == 2 and parsed.columns["doc_number"] == 4
    assert roster_validate(campaign=campaign, parsed=parsed).created == 2
    assert roster_import(campaign=campaign, file=str(path), dry_run=False).created == 2


# --- against the database ------------------------------------------------------------------

def test_duplicate_id_against_the_database(campaign, make_student):
    other = make_student(student_no="2020999", doc_number=rid(5))
    rows = clean_rows(5)
    result = run(campaign, csv_bytes(rows), "r.csv")
    assert codes(result) == {(6, "roster.doc_number_taken")}
    assert "2020999" in result.errors[0].message_zh
    assert Student.objects.filter(campaign=campaign).count() == 1
    other.refresh_from_db()
    assert other.doc_number == rid(5)


def test_other_campaign_students_do_not_conflict(campaign, institution, make_student):
    from tucai.campaigns.models import Campaign

    other = Campaign.objects.create(institution=institution, code="other", name="x", graduation_year=2025,
                                    capture_start=dt.date(2024, 3, 1), capture_end=dt.date(2024, 3, 1))
    assert run(other, csv_bytes(clean_rows(3)), "r.csv").created == 3
    assert run(campaign, csv_bytes(clean_rows(3)), "r.csv").created == 3


def test_class_in_another_department_is_an_error(campaign, school_class):
    # school_class 电商1211 belongs to 管理艺术学院 (conftest)
    rows = clean_rows(1)
    rows[0][5], rows[0][6] = "信息工程学院", school_class.name
    result = run(campaign, csv_bytes(rows), "r.csv")
    assert codes(result) == {(2, "roster.class_department")}
    rows[0][5] = "管理艺术学院"
    assert run(campaign, csv_bytes(rows), "r.csv").committed


def test_upsert_updates_and_never_deletes(campaign):
    assert run(campaign, csv_bytes(clean_rows(4)), "r.csv").created == 4
    rows = clean_rows(2)
    rows[0][1] = "学生一改"          # name change
    rows[1][6] = "软件9班"           # moves to a new class
    rows[1][7] = ""                  # blank phone keeps the old one
    result = run(campaign, csv_bytes(rows), "r.csv")
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (0, 2, 0, 0)
    assert Student.objects.filter(campaign=campaign).count() == 4
    assert Student.objects.get(student_no="202100001").name == "学生一改"
    s2 = Student.objects.get(student_no="202100002")
    assert s2.school_class.name == "软件9班" and s2.phone == "13800000002"
    assert Student.objects.filter(status="active").count() == 4
    again = run(campaign, csv_bytes(rows), "r.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_full_reimport_deactivates_absent_and_reactivates_returning(campaign):
    run(campaign, csv_bytes(clean_rows(5)), "r.csv")
    result = run(campaign, csv_bytes(clean_rows(3)), "r.csv", full=True)
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (0, 0, 3, 2)
    assert set(Student.objects.filter(status="inactive").values_list("student_no", flat=True)) == {
        "202100004", "202100005"}
    assert Student.objects.count() == 5  # inactive, not deleted
    # not full: absent students are left alone
    assert run(campaign, csv_bytes(clean_rows(1)), "r.csv").deactivated == 0
    back = run(campaign, csv_bytes(clean_rows(5)), "r.csv", full=True)
    assert (back.updated, back.reactivated, back.deactivated) == (2, 2, 0)
    assert Student.objects.filter(status="active").count() == 5


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_full_roster_with_no_students_is_refused(campaign, dry_run):
    # A header row alone, imported as complete, would have taken every student off the campaign.
    run(campaign, csv_bytes(clean_rows(3)), "r.csv")
    with pytest.raises(TucaiError) as exc:
        roster_import(campaign=campaign, file=io.BytesIO(csv_bytes([])), filename="r.csv", dry_run=dry_run, full=True)
    assert exc.value.code == "roster.full_empty"
    assert Student.objects.filter(status="active").count() == 3


def test_status_column_moves_students_out_and_back(campaign):
    header = [*HEADER, "状态"]
    rows = [[*r, "在册"] for r in clean_rows(3)]
    assert run(campaign, csv_bytes(rows, header=header), "r.csv").created == 3
    rows[1][8] = "已移出"
    result = run(campaign, csv_bytes(rows, header=header), "r.csv")
    assert (result.updated, result.unchanged) == (1, 2)
    assert Student.objects.get(student_no="202100002").status == "inactive"
    rows[1][8] = ""  # blank: on the roster
    assert run(campaign, csv_bytes(rows, header=header), "r.csv").reactivated == 1
    assert Student.objects.get(student_no="202100002").status == "active"
    rows[2][8] = "休学"
    assert codes(run(campaign, csv_bytes(rows, header=header), "r.csv")) == {(4, "roster.status")}


def test_error_in_one_row_blocks_the_whole_reimport(campaign):
    run(campaign, csv_bytes(clean_rows(3)), "r.csv")
    rows = clean_rows(3)
    rows[0][1] = "新名字"
    rows[2][4] = bad_check(rows[2][4])
    result = run(campaign, csv_bytes(rows), "r.csv", full=True)
    assert not result.committed and codes(result) == {(4, "id.check_digit")}
    assert Student.objects.get(student_no="202100001").name == "学生1"


# --- command line --------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def keep_test_connection(monkeypatch):
    # run_from_argv closes all connections when a command ends, which would end the test's
    # transaction on PostgreSQL.
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)


def tucai(*args) -> int:
    """Run ``tucai ARGS`` in-process (against the test database) and return its exit status."""
    from tucai.cli import main

    try:
        return main(list(args))
    except SystemExit as exc:
        return exc.code


def test_cli_import_dry_run_then_commit(campaign, tmp_path, capsys):
    path = tmp_path / "名单.csv"
    path.write_bytes(csv_bytes(clean_rows(4)))
    assert tucai("roster", "import", str(path), "--campaign", campaign.code, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "created=4 updated=0 unchanged=0 deactivated=0" in out
    assert Student.objects.count() == 0
    assert tucai("roster", "import", str(path), "--campaign", campaign.code) == 0
    assert "created=4" in capsys.readouterr().out and Student.objects.count() == 4
    path.write_bytes(csv_bytes(clean_rows(2)))
    assert tucai("roster", "import", str(path), "--campaign", campaign.code, "--full") == 0
    assert "unchanged=2 deactivated=2" in capsys.readouterr().out


def test_cli_import_errors_exit_1(campaign, tmp_path, capsys):
    path = tmp_path / "messy.csv"
    path.write_bytes(messy_gbk_csv())
    assert tucai("roster", "import", str(path), "--campaign", campaign.code) == 1
    captured = capsys.readouterr()
    assert "第 3 行" in captured.out and "id.check_digit" in captured.out
    assert "roster.invalid" in captured.err
    assert Student.objects.count() == 0


def test_cli_unknown_campaign_and_missing_file_exit_1(campaign, tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_bytes(csv_bytes(clean_rows(1)))
    assert tucai("roster", "import", str(path), "--campaign", "no-such") == 1
    assert "campaign.not_found" in capsys.readouterr().err
    assert tucai("roster", "import", str(tmp_path / "nope.csv"), "--campaign", campaign.code) == 1
    assert tucai("roster", "import", str(tmp_path / "r.pdf"), "--campaign", campaign.code) == 1


def test_cli_export(campaign, make_student, tmp_path, capsys):
    s = make_student(name="=cmd|' /C calc'!A0")
    out = tmp_path / "out.csv"
    assert tucai("roster", "export", "--campaign", campaign.code, str(out)) == 0
    text = out.read_bytes().decode("utf-8-sig")
    assert s.doc_number in text and "'=cmd" in text
    xlsx = tmp_path / "out.xlsx"
    assert tucai("roster", "export", "--campaign", campaign.code, "--masked", str(xlsx)) == 0
    rows = list(openpyxl.load_workbook(xlsx).worksheets[0].iter_rows(values_only=True))
    assert rows[1][4] == s.masked_doc_number
    assert tucai("roster", "export", "--campaign", campaign.code, str(tmp_path / "out.pdf")) == 1


def test_progress_is_reported_while_validating(campaign, monkeypatch):
    from tucai.campaigns.services import roster

    monkeypatch.setattr(roster, "PROGRESS_EVERY", 2)
    seen = []
    run(campaign, csv_bytes(clean_rows(5)), "r.csv", dry_run=True,
        progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]


def test_database_conflict_during_commit_is_a_clear_error(campaign, monkeypatch):
    """If the database refuses a row after validation (a race the checks cannot see), nothing is kept."""
    from tucai.campaigns.services import roster

    real_plan = roster._plan

    def plan_then_sneak_in(**kw):
        plan = real_plan(**kw)
        rec = plan.creates[0]
        Student.objects.create(campaign=campaign, student_no="SNEAK", name="x", doc_type=rec.doc_type,
                               doc_number=rec.doc_number, school_class=_any_class(campaign))
        return plan

    run(campaign, csv_bytes(clean_rows(1, start=50)), "seed.csv")
    monkeypatch.setattr(roster, "_plan", plan_then_sneak_in)
    with pytest.raises(TucaiError) as exc:
        run(campaign, csv_bytes(clean_rows(3)), "r.csv")
    assert exc.value.code == "roster.conflict"
    assert set(Student.objects.values_list("student_no", flat=True)) == {"202100050"}


def _any_class(campaign):
    return SchoolClass.objects.filter(campaign=campaign).first()
