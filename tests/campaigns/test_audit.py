"""Every student the roster import creates, changes or deactivates gets an audit entry with old and
new values, written in the same transaction (a refused import leaves no entries)."""

from __future__ import annotations

import io

from tests.campaigns.test_roster import bad_check, clean_rows, csv_bytes
from tests.conftest import make_user
from tucai.audit.models import AuditEntry
from tucai.campaigns.models import Student
from tucai.campaigns.services.roster import roster_import


def imp(campaign, rows, **kw):
    kw.setdefault("dry_run", False)
    return roster_import(campaign=campaign, file=io.BytesIO(csv_bytes(rows)), filename="名单.csv", **kw)


def test_create_entries_carry_new_values_and_actor(campaign, institution):
    user = make_user("clerk", institution=institution, role="office")
    imp(campaign, clean_rows(3), actor=user)
    s = Student.objects.get(student_no="202100002")
    e = AuditEntry.objects.get(action="student.create", entity_id=str(s.pk))
    assert e.actor == user and e.entity_type == "campaigns.student"
    assert e.campaign_id == campaign.pk and e.institution_id == institution.pk
    assert e.changes["name"] == [None, "学生2"]
    assert e.changes["doc_number"] == [None, s.doc_number]
    assert e.changes["school_class_id"] == [None, s.school_class_id]
    assert e.entity_label == "202100002 学生2" and "名单.csv" in e.note
    assert AuditEntry.objects.filter(action="student.create").count() == 3
    assert AuditEntry.objects.filter(action="class.create").count() == 3
    assert AuditEntry.objects.filter(action="department.create").count() == 2
    summary = AuditEntry.objects.get(action="roster.import")
    assert summary.changes["created"] == [None, 3]


def test_update_entries_have_old_and_new_values(campaign):
    imp(campaign, clean_rows(2))
    old = Student.objects.get(student_no="202100001")
    rows = clean_rows(2)
    rows[0][1], rows[0][7], rows[0][6] = "张三丰", "13912345678", "新班"
    imp(campaign, rows, actor_label="cli")
    e = AuditEntry.objects.get(action="student.update")
    new = Student.objects.get(student_no="202100001")
    assert e.entity_id == str(old.pk) and e.actor is None and e.actor_label == "cli"
    assert e.changes == {
        "name": ["学生1", "张三丰"],
        "phone": ["13800000001", "13912345678"],
        "school_class_id": [old.school_class_id, new.school_class_id],
    }
    # the unchanged student got no entry
    assert not AuditEntry.objects.filter(action="student.update", entity_label__startswith="202100002").exists()


def test_deactivate_and_reactivate_entries(campaign):
    imp(campaign, clean_rows(3))
    imp(campaign, clean_rows(1), full=True)
    off = AuditEntry.objects.filter(action="student.deactivate")
    assert off.count() == 2 and all(e.changes == {"status": ["active", "inactive"]} for e in off)
    imp(campaign, clean_rows(3), full=True)
    back = AuditEntry.objects.filter(action="student.reactivate")
    assert back.count() == 2 and all(e.changes == {"status": ["inactive", "active"]} for e in back)


def test_refused_or_dry_run_import_writes_no_audit(campaign):
    rows = clean_rows(3)
    rows[1][4] = bad_check(rows[1][4])
    imp(campaign, rows)
    imp(campaign, clean_rows(3), dry_run=True)
    assert AuditEntry.objects.count() == 0
