"""``tucai codes``: issue for a class, re-issue, revoke, show."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from tucai.audit.models import AuditEntry
from tucai.capture.models import CaptureCode


def run(*args):
    out = io.StringIO()
    call_command("codes", *args, stdout=out)
    return out.getvalue()


def test_issue_reissue_revoke_show(campaign, school_class, make_student):
    a, b = make_student(), make_student()
    assert "新发放 2 个" in run("issue", "--campaign", campaign.code)
    assert "新发放 0 个" in run("issue", "--campaign", campaign.code, "--class", school_class.name)
    out = run("reissue", "--campaign", campaign.code, "--student", a.student_no, "--reason", "截图外泄")
    assert "第 2 版" in out
    assert CaptureCode.objects.filter(student=a, revoked_at__isnull=True).get().version == 2
    run("revoke", "--campaign", campaign.code, "--student", b.student_no, "--reason", "手机丢失")
    assert not CaptureCode.objects.filter(student=b, revoked_at__isnull=True).exists()
    assert AuditEntry.objects.filter(action="capture_code.revoke", actor_label="cli").count() == 1
    shown = run("show", "--campaign", campaign.code, "--student", a.student_no)
    assert CaptureCode.objects.get(student=a, version=2).token in shown
    with pytest.raises(CommandError, match="code.revoke_reason_required"):
        run("revoke", "--campaign", campaign.code, "--student", a.student_no)
    with pytest.raises(CommandError, match="没有有效的采集码"):
        run("show", "--campaign", campaign.code, "--student", b.student_no)
    with pytest.raises(CommandError):
        run("issue", "--campaign", "nope")


def test_issue_for_one_student_issues_only_theirs(campaign, school_class, make_student):
    # --student was ignored by issue: it gave every student of the campaign a code.
    a, b = make_student(), make_student()
    out = run("issue", "--campaign", campaign.code, "--student", a.student_no)
    assert "第 1 版" in out
    assert CaptureCode.objects.filter(student=a).count() == 1 and not CaptureCode.objects.filter(student=b).exists()
    assert "未发放" in run("issue", "--campaign", campaign.code, "--student", a.student_no)   # a repeat: nothing new
    with pytest.raises(CommandError, match="没有学号"):
        run("issue", "--campaign", campaign.code, "--student", "nobody")


def test_show_prints_the_qr_code_one_line_per_row(campaign, school_class, make_student):
    a = make_student()
    run("issue", "--campaign", campaign.code)
    lines = run("show", "--campaign", campaign.code, "--student", a.student_no).splitlines()
    qr = lines[1:]
    assert len(qr) > 10 and all(line.strip() for line in qr)      # no blank line between the QR's rows
