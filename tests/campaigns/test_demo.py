"""The demo campaign: idempotent, and its schedule is the notice's, slot by slot and room by room."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

# From ../shared/seed/notice-2024-graduate-photo-capture.txt, 班级拍摄时间及顺序 (spaces removed).
NOTICE = {
    ("08:00", "09:00", "一会议室"): ["电商1211", "电商1212", "电商1213", "会计1211"],
    ("08:00", "09:00", "二会议室"): ["风电1211", "光伏1211", "光伏1212", "光伏1213"],
    ("09:00", "10:30", "一会议室"): ["会计1212", "会计1213", "会计1214", "会计1215", "会计1216", "工商1211"],
    ("09:00", "10:30", "二会议室"): ["光伏1214", "光伏1215", "光热1211", "光热1212", "汽车1211", "汽车1212"],
    ("10:30", "12:00", "一会议室"): ["工商1212", "工商1213", "工商1214", "动漫1211", "动漫1212", "动漫1213"],
    ("10:30", "12:00", "二会议室"): ["汽车1213", "汽车1214", "造价1211", "造价1212", "造价1213"],
    ("13:30", "14:30", "一会议室"): ["动漫1214", "动漫1215", "电气1211", "电气1212"],
    ("13:30", "14:30", "二会议室"): ["造价1214", "造价1215", "造价1216", "机电1211"],
    ("14:30", "16:00", "一会议室"): ["电气1213", "机器人1211", "机器人1212", "机器人1213"],
    ("14:30", "16:00", "二会议室"): ["机电1212", "机电1213", "机电1214", "机电1215"],
    ("16:00", "17:30", "一会议室"): ["无人机1211", "无人机1212", "无人机1213"],
    ("16:00", "17:30", "二会议室"): ["机械1211", "机械1212", "机械1213", "机械1214"],
}
ROOM = {"一会议室": "博学楼（图书馆）一会议室", "二会议室": "博学楼（图书馆）二会议室"}


@pytest.fixture
def data_dir(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    return tmp_path


def counts() -> dict:
    from django.apps import apps

    return {m._meta.label: m.objects.count() for m in apps.get_models()
            if m._meta.app_label in {"campaigns", "accounts", "audit"}}


def test_demo_schedule_is_the_notice_slot_by_slot_and_room_by_room(db, data_dir):
    out = StringIO()
    call_command("demo", stdout=out)
    call_command("schedule", "show", "--campaign", "demo-2024", "--json", stdout=(js := StringIO()))
    data = json.loads(js.getvalue())
    got = {(s["start"], s["end"], s["room"]): [c["name"] for c in s["classes"]] for s in data["slots"]}
    assert got == {(a, b, ROOM[r]): names for (a, b, r), names in NOTICE.items()}
    assert all(s["date"] == "2023-03-03" for s in data["slots"])
    assert data["unassigned"] == [] and data["conflicts"] == []
    # Every slot fits at 20 s per student, every class has students.
    assert data["seconds_per_student"] == 20
    assert all(0 < s["load"] <= s["capacity"] for s in data["slots"])
    assert all(c["size"] > 0 for s in data["slots"] for c in s["classes"])


def test_demo_is_idempotent_and_prints_the_same_credentials(db, data_dir):
    from tucai.accounts.models import User

    first = StringIO()
    call_command("demo", stdout=first)
    before = counts()
    hashes = dict(User.objects.values_list("username", "password"))
    second = StringIO()
    call_command("demo", stdout=second)
    assert counts() == before
    assert dict(User.objects.values_list("username", "password")) == hashes
    creds = (data_dir / "demo-admin.txt").read_text(encoding="utf-8")
    for username in ("admin", "office", "operator", "monitor"):
        password = next(line.split()[1] for line in creds.splitlines() if line.startswith(username + " "))
        assert password in first.getvalue() and password in second.getvalue()
        assert User.objects.get(username=username).check_password(password)
    assert User.objects.get(username="admin").is_superuser


def test_demo_data_matches_the_notice(db, data_dir):
    from tucai.accounts.models import Membership
    from tucai.accounts.selectors import user_can
    from tucai.campaigns.idnumbers import idnumber_validate
    from tucai.campaigns.models import Campaign, DepartmentRoom, SchoolClass, Student

    call_command("demo", stdout=StringIO())
    c = Campaign.objects.get(code="demo-2024")
    assert (c.institution.code, c.institution.name) == ("hnpt", "湖南理工职业技术学院")
    assert (c.name, c.graduation_year, str(c.capture_start), c.fee_per_student_fen) == (
        "2024届毕业生图像采集", 2024, "2023-03-03", 2000)
    assert c.makeup_phone == "0731-82250811" and "迎宾路 175 号" in c.makeup_address
    assert c.wechat_account == "潇湘高校影像" and str(c.notice_date) == "2023-02-17"
    rooms = {dr.department.name: dr.room.name for dr in DepartmentRoom.objects.filter(campaign=c)}
    assert rooms == {"管理艺术学院": "一会议室", "智能制造学院": "一会议室", "新能源学院": "二会议室",
                     "动力谷分院": "二会议室", "九华分院": "二会议室"}
    assert SchoolClass.objects.filter(campaign=c).count() == sum(len(v) for v in NOTICE.values())
    students = list(Student.objects.filter(campaign=c))
    assert all(s.is_demo for s in students)
    # Format-valid resident IDs (check digit, birth date) on the province-level code no card carries.
    for s in students:
        assert idnumber_validate(doc_type=s.doc_type, number=s.doc_number) == s.doc_number
        assert s.doc_number.startswith("430000")
        assert (int(s.doc_number[16]) % 2 == 1) == (s.gender == "M")
    assert len({s.name for s in students}) > len(students) // 2                    # varied names
    assert all(2 <= len(s.name) <= 4 for s in students)
    assert SchoolClass.objects.filter(campaign=c, monitor__isnull=True).count() == 0
    office = Membership.objects.get(user__username="office").user
    assert user_can(user=office, institution_id=c.institution_id, perm="schedule.edit")
    assert Membership.objects.get(user__username="monitor").school_class.name == "电商1211"


def test_demo_students_are_deterministic(db, data_dir, settings, tmp_path_factory):
    from tucai.campaigns.services.demo import demo_students

    a = demo_students(class_name="电商1211", class_index=1, graduation_year=2024, used_ids=set())
    b = demo_students(class_name="电商1211", class_index=1, graduation_year=2024, used_ids=set())
    assert a == b and 30 <= len(a) <= 44


def test_demo_keeps_office_changes_to_the_schedule(db, data_dir):
    from tucai.campaigns.models import SchoolClass, TimeSlot
    from tucai.campaigns.services.planner import schedule_assign

    call_command("demo", stdout=StringIO())
    cls = SchoolClass.objects.get(name="无人机1213")
    slot = TimeSlot.objects.get(campaign=cls.campaign, start="14:30", room__name="一会议室")
    schedule_assign(school_class=cls, slot=slot)
    call_command("demo", stdout=StringIO())
    assert SchoolClass.objects.get(name="无人机1213").assignment.slot_id == slot.pk
