"""``tucai fees``: summary, record (class / students), void, export; bad input exits non-zero."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from tucai.audit.models import AuditEntry
from tucai.fees import selectors
from tucai.fees.models import Payment, PaymentState


def run(*args) -> str:
    out = io.StringIO()
    call_command("fees", *args, stdout=out)
    return out.getvalue()


def test_record_class_then_summary(campaign, school_class, make_student):
    a, b = make_student(), make_student()
    out = run("record", "--campaign", campaign.code, "--class", school_class.name, "--method", "现金",
              "--reference", "R-1", "--payer", "班长")
    assert "2 人" in out and "40.00" in out
    p = Payment.objects.get(reference="R-1")
    assert p.method == "cash" and p.school_class == school_class and p.received_by is None
    assert AuditEntry.objects.filter(action="payment.line", actor_label="cli").count() == 2
    again = run("record", "--campaign", campaign.code, "--student", a.student_no, b.student_no, "--class",
                school_class.name, "--method", "cash", "--reference", "R-1", "--payer", "班长")
    assert "未重复记录" in again and Payment.objects.count() == 1
    data = json.loads(run("summary", "--campaign", campaign.code, "--json"))
    assert data["total"] == {"students": 2, "paid": 2, "unpaid": 0, "expected_fen": 4000, "received_fen": 4000}
    assert "合计" in run("summary", "--campaign", campaign.code)
    with pytest.raises(CommandError, match="没有未缴清"):
        run("record", "--campaign", campaign.code, "--class", school_class.name, "--method", "cash")


def test_record_students_with_amount_and_void(campaign, make_student):
    s = make_student()
    run("record", "--campaign", campaign.code, "--student", s.student_no, "--method", "wechat",
        "--amount-yuan", "12.5")
    p = Payment.objects.get()
    assert p.total_fen == 1250 and p.method == "wechat" and p.school_class is None
    assert not selectors.student_paid_status(student=s)
    with pytest.raises(CommandError, match="fees.void_reason_required"):
        run("void", str(p.pk), "--reason", " ")
    # With --campaign only that campaign's payment can be voided (an id typed wrong elsewhere is refused).
    from tucai.campaigns.models import Campaign

    other = Campaign.objects.create(institution=campaign.institution, code="other-2025", name="x", graduation_year=2025,
                                    capture_start=campaign.capture_start, capture_end=campaign.capture_end)
    with pytest.raises(CommandError, match="没有编号为"):
        run("void", str(p.pk), "--reason", "录错金额", "--campaign", other.code)
    assert "已作废" in run("void", str(p.pk), "--reason", "录错金额", "--campaign", campaign.code)
    p.refresh_from_db()
    assert p.state == PaymentState.VOIDED
    assert AuditEntry.objects.get(action="payment.void").actor_label == "cli"
    with pytest.raises(CommandError, match="fees.illegal_transition"):
        run("void", str(p.pk), "--reason", "again")


def test_bad_input(campaign, school_class, make_student):
    s = make_student()
    base = ["record", "--campaign", campaign.code]
    with pytest.raises(CommandError, match="没有代码为"):
        run("summary", "--campaign", "nope")
    with pytest.raises(CommandError, match="未知的缴费方式"):
        run(*base, "--student", s.student_no, "--method", "bitcoin")
    with pytest.raises(CommandError, match="fees.amount_invalid"):
        run(*base, "--student", s.student_no, "--method", "cash", "--amount-yuan", "-3")
    with pytest.raises(CommandError, match="没有学号"):
        run(*base, "--student", "999", "--method", "cash")
    with pytest.raises(CommandError, match="没有班级"):
        run(*base, "--class", "nope", "--method", "cash")
    with pytest.raises(CommandError, match="--class 或 --student"):
        run(*base, "--method", "cash")
    with pytest.raises(CommandError, match="没有编号为"):
        run("void", "999", "--reason", "x")
    run(*base, "--student", s.student_no, "--method", "cash")
    with pytest.raises(CommandError, match="fees.already_paid"):
        run(*base, "--student", s.student_no, "--method", "cash")
    assert Payment.objects.count() == 1


def test_export(campaign, school_class, make_student, tmp_path):
    s = make_student()
    run("record", "--campaign", campaign.code, "--student", s.student_no, "--method", "cash")
    run("export", "--campaign", campaign.code, str(tmp_path / "f.xlsx"))
    wb = openpyxl.load_workbook(tmp_path / "f.xlsx")
    assert wb.sheetnames == ["班级汇总", "学生明细", "缴费记录"]
    assert list(wb["学生明细"].iter_rows(values_only=True))[1][0] == s.student_no
    run("export", "--campaign", campaign.code, str(tmp_path / "p.csv"), "--sheet", "缴费记录")
    text = (tmp_path / "p.csv").read_text(encoding="utf-8-sig")
    assert text.startswith("编号,收款时间") and "20.00" in text
    with pytest.raises(CommandError, match="不支持的导出格式"):
        run("export", "--campaign", campaign.code, str(tmp_path / "f.pdf"))


def test_exit_code_through_tucai_cli():
    import subprocess
    import sys

    # The real `tucai` entry point in a subprocess exits non-zero on bad input (it cannot see the test
    # database, so an argument error, caught before any query, is the case it can check).
    proc = subprocess.run([sys.executable, "-m", "tucai", "fees", "void", "notanumber", "--reason", "x"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "invalid int value" in proc.stderr
