"""The printable notice: HTML page and PDF from the campaign's data; the schedule drives it."""

from __future__ import annotations

import shutil
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path):
    from tucai.campaigns.models import Campaign

    settings.DATA_DIR = tmp_path
    call_command("demo", stdout=StringIO())
    return Campaign.objects.get(code="demo-2024")


def pdf_text(path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def squash(text: str) -> str:
    return "".join(text.split())


def room_line(text: str, room: str, first_class: str) -> str:
    """The classes listed after ``room：`` on the line that starts with ``first_class``."""
    flat = squash(text)
    start = flat.index(f"{room}：{first_class}")
    return flat[start + len(room) + 1:flat.index("。", start)]


def test_html_notice_has_schedule_fee_makeup_rules_and_timeline(demo):
    from tucai.campaigns.services.notice import notice_html

    html = notice_html(campaign=demo)
    flat = squash(html)
    assert "关于2024届毕业生电子图像采集的通知" in flat and "湖南理工职业技术学院教务处" in flat
    assert "①上午8:00—9:00" in flat and "⑥下午16:00—17:30" in flat
    assert "博学楼（图书馆）一会议室：电商1211、电商1212、电商1213、会计1211。" in flat
    assert "博学楼（图书馆）二会议室：机械1211、机械1212、机械1213、机械1214。" in flat
    assert "管理艺术学院和智能制造学院的学生在博学楼（图书馆）一会议室" in flat
    assert "新能源学院、动力谷分院和九华分院的学生在博学楼（图书馆）二会议室" in flat
    assert "每人20元（含1寸数码彩照8张、1.5寸数码彩照4张）" in flat
    assert "新华社湖南分社大学生图像采集中心" in flat and "0731-82250811" in flat and "周一至周五工作日" in flat
    assert "采集码" in flat and "拍摄序号" in flat and "严禁插队" in flat and "班长统一缴费" in flat
    assert "禁止穿蓝色、黄色、绿色、紫色衣服" in flat and "不得佩戴耳环、项链等饰品" in flat and "眼镜" in flat
    assert "潇湘高校影像" in flat and "采集后2-3周内" in flat and "2周内完成信息勘误" in flat
    assert "2023年2月17日" in flat and "演示数据" in flat


def test_pdf_notice_contains_the_schedule_and_follows_changes(demo, tmp_path):
    from tucai.campaigns.models import SchoolClass, TimeSlot
    from tucai.campaigns.services.planner import schedule_assign

    out = tmp_path / "notice.pdf"
    call_command("notice", str(out), "--campaign", "demo-2024", stdout=StringIO())
    assert out.read_bytes()[:5] == b"%PDF-"
    text = pdf_text(out)
    flat = squash(text)
    assert "关于2024届毕业生电子图像采集的通知" in flat
    assert room_line(text, "博学楼（图书馆）一会议室", "无人机1211") == "无人机1211、无人机1212、无人机1213"
    assert room_line(text, "博学楼（图书馆）一会议室", "电气1213") == "电气1213、机器人1211、机器人1212、机器人1213"
    assert "每人20元" in flat and "0731-82250811" in flat and "禁止穿蓝色、黄色、绿色、紫色衣服" in flat
    # Move 无人机1213 to 14:30–16:00 in room 1: the regenerated notice shows it there.
    cls = SchoolClass.objects.get(campaign=demo, name="无人机1213")
    slot = TimeSlot.objects.get(campaign=demo, start="14:30", room__name="一会议室")
    schedule_assign(school_class=cls, slot=slot)
    call_command("notice", str(out), "--campaign", "demo-2024", stdout=StringIO())
    text = pdf_text(out)
    assert room_line(text, "博学楼（图书馆）一会议室", "无人机1211") == "无人机1211、无人机1212"
    assert room_line(text, "博学楼（图书馆）一会议室", "电气1213") == (
        "电气1213、机器人1211、机器人1212、机器人1213、无人机1213")


def test_notice_follows_campaign_fields(demo):
    from tucai.campaigns.services.notice import notice_html

    demo.fee_per_student_fen = 2550
    demo.makeup_phone = "0731-00000000"
    demo.proofing_window_days = 10
    demo.save()
    flat = squash(notice_html(campaign=demo))
    assert "每人25.50元" in flat and "0731-00000000" in flat and "10天内完成信息勘误" in flat


def test_notice_command_unknown_campaign(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="campaign.not_found"):
        call_command("notice", "/tmp/never.pdf", "--campaign", "nope", stdout=StringIO())


def test_notice_views_are_scoped_to_the_institution(demo, client):
    from tests.conftest import make_user

    from tucai.campaigns.models import Institution

    page = reverse("campaigns:notice_page", args=["demo-2024"])
    pdf = reverse("campaigns:notice_pdf", args=["demo-2024"])
    assert client.get(page).status_code == 302                                   # sign in first
    stranger_inst = Institution.objects.create(code="x", name="别的学院")
    make_user("stranger", institution=stranger_inst, role="office")
    client.login(username="stranger", password="pw-Tucai-2024!")
    assert client.get(page).status_code == 403 and client.get(pdf).status_code == 403
    make_user("op2", institution=demo.institution, role="operator")
    client.login(username="op2", password="pw-Tucai-2024!")
    r = client.get(page)
    assert r.status_code == 200 and "博学楼（图书馆）二会议室：风电1211" in r.content.decode()
    r = client.get(pdf)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content[:5] == b"%PDF-"


def test_schedule_move_view_checks_permission_and_reports_conflicts(demo, client):
    from tests.conftest import make_user

    from tucai.campaigns.models import SchoolClass, TimeSlot

    url = reverse("campaigns:schedule_move", args=["demo-2024"])
    cls = SchoolClass.objects.get(campaign=demo, name="电商1211")
    room2 = TimeSlot.objects.get(campaign=demo, start="16:00", room__name="二会议室")
    make_user("op2", institution=demo.institution, role="operator")
    client.login(username="op2", password="pw-Tucai-2024!")
    assert client.get(reverse("campaigns:schedule_page", args=["demo-2024"])).status_code == 200
    assert client.post(url, {"school_class": cls.pk, "slot": room2.pk}).status_code == 403
    make_user("office2", institution=demo.institution, role="office")
    client.login(username="office2", password="pw-Tucai-2024!")
    r = client.post(url, {"school_class": cls.pk, "slot": room2.pk}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert r.status_code == 200 and 'data-code="schedule.wrong_room"' in body and "冲突" in body
    assert SchoolClass.objects.get(pk=cls.pk).assignment.slot.room.name == "一会议室"
    # A class of another campaign is not offered.
    r = client.post(url, {"school_class": 999999, "slot": room2.pk}, HTTP_HX_REQUEST="true")
    assert 'data-code="schedule.bad_request"' in r.content.decode()


def test_schedule_board_reorder_unassign_and_replan(demo, client):
    from tests.conftest import make_user

    from tucai.campaigns.models import SchoolClass, SlotAssignment

    make_user("office2", institution=demo.institution, role="office")
    client.login(username="office2", password="pw-Tucai-2024!")
    cls = SchoolClass.objects.get(campaign=demo, name="电商1212")
    slot = cls.assignment.slot
    move = reverse("campaigns:schedule_move", args=["demo-2024"])
    r = client.post(move, {"school_class": cls.pk, "slot": slot.pk, "position": 0}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert list(SlotAssignment.objects.filter(slot=slot).order_by("position").values_list(
        "school_class__name", flat=True))[:2] == ["电商1212", "电商1211"]
    r = client.post(reverse("campaigns:schedule_unassign", args=["demo-2024"]), {"school_class": cls.pk})
    assert r.status_code == 302                                      # plain form post: back to the page
    assert not SlotAssignment.objects.filter(school_class=cls).exists()
    page = client.get(reverse("campaigns:schedule_page", args=["demo-2024"])).content.decode()
    assert "未安排的班级" in page and 'data-class="电商1212"' in page
    r = client.post(reverse("campaigns:schedule_plan", args=["demo-2024"]), HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "已自动排期：54 个班级" in r.content.decode()
    assert SlotAssignment.objects.filter(slot__campaign=demo).count() == 54


def test_notice_command_refuses_an_output_that_is_neither_pdf_nor_html(campaign, tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=".pdf"):
        call_command("notice", "--campaign", campaign.code, str(tmp_path / "n.txt"))
    assert not (tmp_path / "n.txt").exists()
