"""The office moves classes between slots on the schedule board and sees conflicts refused."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_moves_a_class_and_sees_conflict_warning(browser, live_server, artifacts_dir, settings, tmp_path,
                                                        monkeypatch):
    from tests.conftest import browser_login, make_user

    # Playwright's sync API runs an event loop in this thread; the ORM calls here are plain sync code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    from tucai.campaigns.models import Campaign, SchoolClass, TimeSlot

    settings.DATA_DIR = tmp_path

    call_command("demo", stdout=StringIO())
    campaign = Campaign.objects.get(code="demo-2024")
    make_user("office2", institution=campaign.institution, role="office")
    target = TimeSlot.objects.get(campaign=campaign, start="14:30", room__name="一会议室")
    room2_first = TimeSlot.objects.get(campaign=campaign, start="08:00", room__name="二会议室")

    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    browser_login(page, live_server.url, "office2", next_path="/c/demo-2024/schedule/")
    page.wait_for_selector("#board")
    page.screenshot(path=str(artifacts_dir / "schedule-board.png"), full_page=True)
    before_load = page.inner_text(f'td[data-slot="{target.pk}"] .load')

    # A legal move: 无人机1213 from 16:00 to 14:30 in room 1 (htmx swaps the board in place).
    item = page.locator('li[data-class="无人机1213"]')
    item.locator("select").select_option(str(target.pk))
    item.locator("button:has-text('移动')").click()
    page.wait_for_selector(".flash.done")
    assert page.url.endswith("/c/demo-2024/schedule/")
    assert page.locator(f'td[data-slot="{target.pk}"] li[data-class="无人机1213"]').count() == 1
    assert page.inner_text(f'td[data-slot="{target.pk}"] .load') != before_load
    assert SchoolClass.objects.get(campaign=campaign, name="无人机1213").assignment.slot_id == target.pk

    # An illegal move: 电商1211 (管理艺术学院, room 1) into room 2 is refused with the reason.
    item = page.locator('li[data-class="电商1211"]')
    item.locator("select").select_option(str(room2_first.pk))
    item.locator("button:has-text('移动')").click()
    page.wait_for_selector('.flash.conflict[data-code="schedule.wrong_room"]')
    warning = page.inner_text('.flash.conflict[data-code="schedule.wrong_room"]')
    assert "电商1211" in warning and "一会议室" in warning
    assert page.locator(f'td[data-slot="{room2_first.pk}"] li[data-class="电商1211"]').count() == 0
    assert SchoolClass.objects.get(campaign=campaign, name="电商1211").assignment.slot.room.name == "一会议室"
    page.screenshot(path=str(artifacts_dir / "schedule-conflict.png"), full_page=False)

    # Over capacity: 会计1212 added to the full 8:00 slot of room 1 (or whatever the page says).
    first = TimeSlot.objects.get(campaign=campaign, start="08:00", room__name="一会议室")
    item = page.locator('li[data-class="会计1212"]')
    item.locator("select").select_option(str(first.pk))
    item.locator("button:has-text('移动')").click()
    page.wait_for_selector('.flash.conflict[data-code="schedule.over_capacity"]')
    assert "超过容量 180 人" in page.inner_text('.flash.conflict[data-code="schedule.over_capacity"]')
    page.screenshot(path=str(artifacts_dir / "schedule-over-capacity.png"), full_page=False)

    # The printable notice follows the board: 无人机1213 is now listed at 14:30–16:00.
    page.click("a:has-text('查看通知')")
    page.wait_for_selector("article.notice")
    room1 = page.locator('.schedule p.room[data-room="博学楼（图书馆）一会议室"]').all_inner_texts()
    assert any(line.startswith("博学楼（图书馆）一会议室：电气1213") and line.endswith("无人机1213。") for line in room1)
    page.screenshot(path=str(artifacts_dir / "notice-page.png"), full_page=True)
