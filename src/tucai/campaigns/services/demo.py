"""The demo campaign: the 2024 notice of 湖南理工职业技术学院 as data (``tucai demo``).

Idempotent: every object is looked up by its natural key before it is created, students are only
generated for a class that has none, and the schedule is only written while the campaign has none —
so running it twice changes nothing and duplicates nothing.

Students are fictitious (``Student.is_demo``): names drawn from common surname / given-name lists with a
seeded RNG (the same names every time), resident ID numbers with the province-level area code
430000 (湖南省 itself, which no real card carries) and a correct check character, so they pass
validation but belong to nobody.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import secrets
from pathlib import Path

from django.conf import settings
from django.db import transaction

from tucai.audit.services import audit_record
from tucai.core.files import write_atomic
from tucai.campaigns.models import (
    Campaign,
    Department,
    DepartmentRoom,
    Gender,
    Institution,
    Room,
    SchoolClass,
    SlotAssignment,
    Student,
    TimeSlot,
)
from tucai.campaigns.services.planner import schedule_set_exact

CAMPAIGN_CODE = "demo-2024"
CAPTURE_DATE = dt.date(2023, 3, 3)
BUILDING = "博学楼（图书馆）"
ROOMS = ("一会议室", "二会议室")
# Department -> index into ROOMS (the notice: two colleges in room 1, three in room 2).
DEPARTMENTS = (("管理艺术学院", 0), ("智能制造学院", 0), ("新能源学院", 1), ("动力谷分院", 1), ("九华分院", 1))
# Class name prefix (major) -> department.
MAJOR_DEPARTMENT = {
    "电商": "管理艺术学院", "会计": "管理艺术学院", "工商": "管理艺术学院", "动漫": "管理艺术学院",
    "电气": "智能制造学院", "机器人": "智能制造学院", "无人机": "智能制造学院",
    "风电": "新能源学院", "光伏": "新能源学院", "光热": "新能源学院",
    "汽车": "动力谷分院", "造价": "动力谷分院",
    "机电": "九华分院", "机械": "九华分院",
}
# The notice's 班级拍摄时间及顺序: (start, end, [room 1 classes], [room 2 classes]), in its order.
NOTICE_SCHEDULE: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("08:00", "09:00", ("电商1211", "电商1212", "电商1213", "会计1211"),
     ("风电1211", "光伏1211", "光伏1212", "光伏1213")),
    ("09:00", "10:30", ("会计1212", "会计1213", "会计1214", "会计1215", "会计1216", "工商1211"),
     ("光伏1214", "光伏1215", "光热1211", "光热1212", "汽车1211", "汽车1212")),
    ("10:30", "12:00", ("工商1212", "工商1213", "工商1214", "动漫1211", "动漫1212", "动漫1213"),
     ("汽车1213", "汽车1214", "造价1211", "造价1212", "造价1213")),
    ("13:30", "14:30", ("动漫1214", "动漫1215", "电气1211", "电气1212"),
     ("造价1214", "造价1215", "造价1216", "机电1211")),
    ("14:30", "16:00", ("电气1213", "机器人1211", "机器人1212", "机器人1213"),
     ("机电1212", "机电1213", "机电1214", "机电1215")),
    ("16:00", "17:30", ("无人机1211", "无人机1212", "无人机1213"),
     ("机械1211", "机械1212", "机械1213", "机械1214")),
)
# Class sizes: at 20 s per student a 60-minute slot takes 180, so four classes of at most 44 fit.
MIN_CLASS, MAX_CLASS = 30, 44

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙贺陶顾毛郝龚邵万覃武钱严欧阳"
)
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳坤峰建文博志晨睿轩翔然哲豪"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲燕红梅莉婷雪琳晶颖倩洁佳欣怡悦萱彤琪瑶妍璐蓉薇月雯露丹慧嘉诗梦"
AREA = "430000"   # province-level code: format-valid, never on a real card


def _resident_id(birth: dt.date, seq: int) -> str:
    body = f"{AREA}{birth:%Y%m%d}{seq:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def _name(rng: random.Random, gender: str) -> str:
    surname = "欧阳" if rng.random() < 0.01 else rng.choice(SURNAMES.replace("欧阳", ""))
    pool = GIVEN_MALE if gender == Gender.MALE else GIVEN_FEMALE
    return surname + "".join(rng.choice(pool) for _ in range(1 if rng.random() < 0.35 else 2))


def demo_students(*, class_name: str, class_index: int, graduation_year: int, used_ids: set[str]) -> list[dict]:
    """The fictitious students of one class: the same every time (RNG seeded by the class name)."""
    rng = random.Random(f"{CAMPAIGN_CODE}:{class_name}")
    out = []
    for i in range(rng.randint(MIN_CLASS, MAX_CLASS)):
        gender = Gender.MALE if rng.random() < 0.55 else Gender.FEMALE
        while True:
            birth = dt.date(graduation_year - 23, 1, 1) + dt.timedelta(days=rng.randrange(3 * 365))
            seq = rng.randrange(0, 999)
            if (seq % 2 == 1) != (gender == Gender.MALE):   # odd sequence = male (GB 11643)
                seq = (seq + 1) % 1000
            number = _resident_id(birth, seq)
            if number not in used_ids:
                used_ids.add(number)
                break
        out.append({"student_no": f"{graduation_year - 3}{class_index:03d}{i + 1:03d}", "name": _name(rng, gender),
                    "gender": gender, "doc_number": number,
                    "phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"})
    return out


# --- accounts -----------------------------------------------------------------------------------

ACCOUNTS = (("admin", None, "超级管理员"), ("office", "office", "教务处"), ("operator", "operator", "采集单位操作员"),
            ("monitor", "monitor", "班长（电商1211）"))
CREDENTIALS_FILE = "demo-admin.txt"
# Letters and digits without look-alikes (0/O, 1/l/I): easy to read off a terminal and type.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _read_credentials(path: Path) -> dict[str, str]:
    creds = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 2 and not line.startswith("#"):
                creds[parts[0]] = parts[1]
    return creds


def _write_credentials(path: Path, creds: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# tucai demo accounts: username password role (created once by `tucai demo`)"]
    lines += [f"{u} {creds[u]} {label}" for u, _, label in ACCOUNTS if u in creds]
    write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"), mode=0o600)  # passwords: owner only


@dataclasses.dataclass
class DemoResult:
    campaign: Campaign
    created: dict[str, int]                      # what this run created, by kind
    credentials: list[tuple[str, str, str]]      # (username, password, role label)
    credentials_path: Path


def _accounts(*, institution: Institution, monitor_class: SchoolClass, path: Path, created: dict) -> list:
    from tucai.accounts.models import Membership, Role, User

    creds = _read_credentials(path)
    changed = False
    for username, role, _label in ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None or username not in creds:
            # New user, or the file was lost: a fresh random password, written down below.
            creds[username] = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(16))
            changed = True
            if user is None:
                user = User(username=username, display_name=_label)
                created["users"] += 1
            user.set_password(creds[username])
            if role is None:
                user.is_staff = user.is_superuser = True
            elif role == Role.OFFICE:
                user.is_staff = True  # the office works in the admin too, scoped to its institution
            user.save()
        if role is not None:
            extra = {}
            if role == Role.MONITOR:
                extra = {"school_class": monitor_class, "student": monitor_class.monitor}
            _, made = Membership.objects.get_or_create(
                user=user, institution=institution, role=role,
                school_class=extra.get("school_class"), defaults={"student": extra.get("student")})
            created["memberships"] += int(made)
    if changed:
        _write_credentials(path, creds)
    return [(u, creds[u], label) for u, _, label in ACCOUNTS]


# --- the campaign -------------------------------------------------------------------------------


def _hm(text: str) -> dt.time:
    h, m = text.split(":")
    return dt.time(int(h), int(m))


@transaction.atomic
def demo_create(*, data_dir: Path | None = None) -> DemoResult:
    """Create (or find) the demo campaign, its students, schedule and accounts."""
    created = {k: 0 for k in ("institution", "campaign", "departments", "rooms", "department_rooms", "slots",
                              "classes", "students", "assignments", "users", "memberships")}

    def count(kind, made):
        created[kind] += int(made)

    inst, made = Institution.objects.get_or_create(code="hnpt", defaults={"name": "湖南理工职业技术学院",
                                                                          "office_name": "教务处"})
    count("institution", made)
    campaign, made = Campaign.objects.get_or_create(code=CAMPAIGN_CODE, defaults=dict(
        institution=inst, name="2024届毕业生图像采集", graduation_year=2024, capture_start=CAPTURE_DATE,
        capture_end=CAPTURE_DATE, fee_per_student_fen=2000, prints_1inch=8, prints_15inch=4, seconds_per_student=20,
        proofing_publish_after_days=21, proofing_window_days=14,
        makeup_centre="新华社湖南分社大学生图像采集中心", makeup_address="长沙市迎宾路 175 号",
        makeup_phone="0731-82250811", makeup_hours="周一至周五工作日", wechat_account="潇湘高校影像",
        notice_date=dt.date(2023, 2, 17),
        notice_extra="（演示数据：本活动的学生姓名与证件号均为虚构，仅用于体验系统。）"))
    count("campaign", made)
    campaign_created = made
    rooms = []
    for name in ROOMS:
        room, made = Room.objects.get_or_create(institution=inst, building=BUILDING, name=name)
        rooms.append(room)
        count("rooms", made)
    departments = {}
    for name, room_index in DEPARTMENTS:
        dept, made = Department.objects.get_or_create(institution=inst, name=name)
        departments[name] = dept
        count("departments", made)
        _, made = DepartmentRoom.objects.get_or_create(campaign=campaign, department=dept,
                                                       defaults={"room": rooms[room_index]})
        count("department_rooms", made)
    slots: list[tuple[TimeSlot, tuple[str, ...]]] = []
    for start, end, room1, room2 in NOTICE_SCHEDULE:
        for room, names in ((rooms[0], room1), (rooms[1], room2)):
            slot, made = TimeSlot.objects.get_or_create(campaign=campaign, room=room, date=CAPTURE_DATE,
                                                        start=_hm(start), defaults={"end": _hm(end)})
            count("slots", made)
            slots.append((slot, names))
    classes: dict[str, SchoolClass] = {}
    notice_order = [n for _, names in slots for n in names]
    for name in notice_order:
        major = name.rstrip("0123456789")
        cls, made = SchoolClass.objects.get_or_create(campaign=campaign, name=name,
                                                      defaults={"department": departments[MAJOR_DEPARTMENT[major]]})
        classes[name] = cls
        count("classes", made)
    # Students, only for classes that have none (never duplicates, never overwrites).
    has_students = set(Student.objects.filter(campaign=campaign).values_list("school_class_id", flat=True).distinct())
    used_ids = set(Student.objects.filter(campaign=campaign).values_list("doc_number", flat=True))
    new_students = []
    for index, name in enumerate(notice_order, 1):
        cls = classes[name]
        rows = demo_students(class_name=name, class_index=index, graduation_year=campaign.graduation_year,
                             used_ids=used_ids)
        if cls.pk in has_students:
            continue
        new_students += [Student(campaign=campaign, school_class=cls, is_demo=True, **row) for row in rows]
    Student.objects.bulk_create(new_students, batch_size=1000)
    created["students"] = len(new_students)
    if new_students:
        audit_record(actor_label="demo", action="demo.students_create", obj=campaign,
                     note=f"{len(new_students)} fictitious demo students created")
        # Monitor (班长): the first student of each class that has none.
        firsts = {}
        for s in Student.objects.filter(campaign=campaign, school_class__monitor__isnull=True).order_by("student_no"):
            firsts.setdefault(s.school_class_id, s)
        for cls in classes.values():
            if cls.monitor_id is None and cls.pk in firsts:
                cls.monitor = firsts[cls.pk]
                cls.save(update_fields=["monitor"])
    if campaign_created:
        audit_record(actor_label="demo", action="demo.create", obj=campaign, note="demo campaign from the 2024 notice")
    # The notice's schedule, only while the campaign has none (the office's later moves are kept).
    if not SlotAssignment.objects.filter(slot__campaign=campaign).exists():
        schedule_set_exact(campaign=campaign, table=[(slot.pk, [classes[n].pk for n in names]) for slot, names in slots])
        created["assignments"] = len(notice_order)
    path = Path(data_dir or settings.DATA_DIR) / CREDENTIALS_FILE
    credentials = _accounts(institution=inst, monitor_class=classes["电商1211"], path=path, created=created)
    return DemoResult(campaign=campaign, created=created, credentials=credentials, credentials_path=path)
