"""Exports: xlsx and csv (UTF-8 BOM), formula injection neutralised, ID numbers masked for operators,
and an export with full IDs imports again."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from tests.conftest import make_user
from tucai.audit.models import AuditEntry
from tucai.campaigns.models import Student
from tucai.campaigns.services.exports import roster_export
from tucai.core.spreadsheets import cell_neutralise
from tucai.campaigns.services.roster import roster_import
from tucai.core.errors import PermissionDenied, TucaiError

EVIL = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.fixture
def students(make_student):
    made = [make_student(name=n, phone=p) for n, p in zip(EVIL, ["=1+1", "+8613800000000", "", "", "", ""])]
    made.append(make_student(name="张三", phone="13800000000"))
    return made


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))


def read_xlsx(data: bytes) -> list[list]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"formula in {cell.coordinate}: {cell.value!r}"
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_neutralise_rules():
    for v in EVIL:
        assert cell_neutralise(v) == "'" + v
    assert cell_neutralise("张三") == "张三"
    assert cell_neutralise("") == ""
    assert cell_neutralise(None) is None
    assert cell_neutralise("a=b") == "a=b"


def test_csv_export_has_bom_and_neutralised_cells(campaign, students, office_user):
    rows = read_csv(roster_export(campaign=campaign, fmt="csv", user=office_user))
    assert rows[0][:5] == ["学号", "姓名", "性别", "证件类型", "证件号码"]
    names = [r[1] for r in rows[1:]]
    assert sorted(names) == sorted(["'" + v for v in EVIL] + ["张三"])
    phones = {r[1]: r[7] for r in rows[1:]}
    assert phones["'" + EVIL[0]] == "'=1+1" and phones["'" + EVIL[1]] == "'+8613800000000"
    for r in rows[1:]:
        assert not r[1].startswith(("=", "+", "-", "@", "\t", "\r"))


def test_xlsx_export_has_no_formulas_and_full_ids_for_office(campaign, students, office_user):
    rows = read_xlsx(roster_export(campaign=campaign, fmt="xlsx", user=office_user))
    assert rows[0][0] == "学号"
    by_no = {r[0]: r for r in rows[1:]}
    for s in students:
        assert by_no[s.student_no][4] == s.doc_number  # office staff see the full number
        assert isinstance(by_no[s.student_no][4], str)
    # (XML turns a bare CR into LF on the way back; what matters is the apostrophe in front)
    assert {r[1].replace("\n", "\r") for r in rows[1:]} >= {"'" + v for v in EVIL}


def test_operator_without_export_permission_is_refused(campaign, students, operator_user):
    with pytest.raises(PermissionDenied):
        roster_export(campaign=campaign, fmt="csv", user=operator_user)


def test_ids_masked_when_the_user_may_not_see_them(campaign, students, institution, monkeypatch):
    # A role that may export but not see full IDs (e.g. a future "export only" role).
    from tucai.accounts import selectors

    user = make_user("exporter", institution=institution, role="operator")
    monkeypatch.setitem(selectors.PERMISSIONS, "operator", selectors.PERMISSIONS["operator"] | {"roster.export"})
    rows = read_csv(roster_export(campaign=campaign, fmt="csv", user=user))
    by_no = {r[0]: r for r in rows[1:]}
    for s in students:
        shown = by_no[s.student_no][4]
        assert shown == s.masked_doc_number and "*" in shown and shown != s.doc_number


def test_cli_style_export_full_unless_masked(campaign, students):
    rows = read_csv(roster_export(campaign=campaign, fmt="csv"))
    assert {r[4] for r in rows[1:]} == {s.doc_number for s in students}
    masked = read_csv(roster_export(campaign=campaign, fmt="csv", masked=True))
    assert all("*" in r[4] for r in masked[1:])
    # The mobile number is masked with the ID number (it was exported whole).
    assert "138****0000" in {r[7] for r in masked[1:]} and "13800000000" not in {r[7] for r in masked[1:]}
    assert "13800000000" in {r[7] for r in rows[1:]}


def test_export_is_audited_and_unknown_format_refused(campaign, students, office_user):
    roster_export(campaign=campaign, fmt="xlsx", user=office_user)
    e = AuditEntry.objects.get(action="roster.export")
    assert e.actor == office_user and e.campaign_id == campaign.pk and "完整证件号" in e.note
    with pytest.raises(TucaiError) as exc:
        roster_export(campaign=campaign, fmt="pdf")
    assert exc.value.code == "export.format"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_round_trips_through_import(campaign, make_student, fmt):
    for i in range(3):
        make_student(phone=f"1390000000{i}")
    data = roster_export(campaign=campaign, fmt=fmt)
    Student.objects.update(name="改过的名字")
    result = roster_import(campaign=campaign, file=io.BytesIO(data), filename=f"x.{fmt}", dry_run=False)
    assert result.committed and result.updated == 3 and result.created == 0
    assert result.ignored_columns == []  # every exported column is understood by the import
    assert not Student.objects.filter(name="改过的名字").exists()
