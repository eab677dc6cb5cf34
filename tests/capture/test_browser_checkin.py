"""Browser walk: the student's code page → scan at the desk (typed into the scanner field) → the
number on the public display and on the student's phone, then called at the camera."""

from __future__ import annotations

import re

import pytest
from django.test import Client


def close_db_connections():
    """Django keeps connections per asyncio context; the one this test body opened while Playwright's
    loop runs would stay open and block dropping the PostgreSQL test database."""
    from django.db import connections

    connections.close_all()


def _session_cookie(user, live_server):
    c = Client()
    c.force_login(user)
    return {"name": "sessionid", "value": c.cookies["sessionid"].value, "url": live_server.url}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_code_page_desk_display(allow_db_in_playwright, browser, live_server, artifacts_dir, campaign, room, day,
                                make_student, operator_user, project_static):
    from tucai.capture.models import Ticket

    students = [make_student(name=f"前面{i}") for i in range(2)]  # two students ahead in the queue
    me = make_student(name="林小雨")
    from tucai.capture.services.checkin import checkin_perform

    for s in students:
        checkin_perform(campaign=campaign, room=room, date=day, student=s)
    day_s = day.isoformat()

    # 1. The student signs in on the phone and sees the QR code.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                locale="zh-CN")
    p = phone.new_page()
    p.goto(f"{live_server.url}/capture/c/{campaign.code}/me/login/")
    p.fill("input[name=student_no]", me.student_no)
    p.fill("input[name=doc_tail]", me.doc_number[-6:].lower())
    p.click("button[type=submit]")
    p.wait_for_selector("#my-qr svg")
    token = p.inner_text("#my-token").strip()
    assert token.startswith("TC1")
    p.screenshot(path=str(artifacts_dir / "capture_1_student_code.png"), full_page=True)

    # 2. The operator types the token into the scanner field (a keyboard-wedge scanner does exactly this).
    desk_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk_ctx.add_cookies([_session_cookie(operator_user, live_server)])
    d = desk_ctx.new_page()
    d.goto(f"{live_server.url}/capture/desk/{campaign.pk}/{room.pk}/{day_s}/?desk=A")
    assert d.evaluate("document.activeElement.id") == "scan-code"  # autofocus: the scanner types here
    d.keyboard.type(token)
    d.keyboard.press("Enter")
    d.wait_for_selector(".result[data-result=issued]")
    number = int(d.get_attribute(".result", "data-number"))
    assert number == len(students) + 1
    assert d.inner_text(".student-name") == "林小雨"
    assert d.inner_text(".doc") == me.masked_doc_number
    d.screenshot(path=str(artifacts_dir / "capture_2_desk_issued.png"), full_page=True)
    # Scan again: the same number comes back.
    d.keyboard.type(token)
    d.keyboard.press("Enter")
    d.wait_for_selector(".result[data-result=repeat]")
    assert int(d.get_attribute(".result", "data-number")) == number
    # A tampered code is refused with its reason.
    mid = len(token) // 2       # not the last character: it may carry only base32 padding bits
    d.keyboard.type(token[:mid] + ("A" if token[mid] != "A" else "B") + token[mid + 1:])
    d.keyboard.press("Enter")
    d.wait_for_selector(".result[data-result=refused][data-reason='code.forged']")
    d.screenshot(path=str(artifacts_dir / "capture_3_desk_refused.png"), full_page=True)
    assert Ticket.objects.filter(date=day).count() == len(students) + 1

    # 3. The public display shows the number among the next ones, then as "now serving".
    tv_ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    tv = tv_ctx.new_page()
    tv.goto(f"{live_server.url}/capture/display/{room.pk}/{day_s}/")
    tv.wait_for_selector(f".next-number[data-number='{number}']")
    p.wait_for_selector("#my-number")
    assert p.inner_text("#my-number").strip() == str(number)
    assert re.search(r"前面还有\s*2\s*人", p.inner_text("#me-status"))

    # 4. At the camera: call next three times through the queue controls fragment.
    cam = desk_ctx.new_page()
    cam.goto(f"{live_server.url}/capture/queue/{room.pk}/{day_s}/")
    for i in range(1, 4):
        cam.click(".queue-call-next")
        cam.wait_for_selector(f".queue-serving li[data-number='{i}']")
    tv.wait_for_selector(f".serving-number[data-number='{number}']", timeout=5000)
    tv.screenshot(path=str(artifacts_dir / "capture_4_display.png"))
    p.wait_for_selector("#my-state[data-state=called]", timeout=5000)
    p.screenshot(path=str(artifacts_dir / "capture_5_student_called.png"), full_page=True)
    cam.screenshot(path=str(artifacts_dir / "capture_6_queue_controls.png"), full_page=True)
    for ctx in (phone, desk_ctx, tv_ctx):
        ctx.close()
    close_db_connections()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_desk_binds_unknown_code_and_manual_checkin(allow_db_in_playwright, browser, live_server, artifacts_dir,
                                                    campaign, room, day, make_student, operator_user,
                                                    project_static):
    from tucai.capture.models import CheckinScan, ForeignCode

    chsi_student = make_student(name="欧阳娜娜")
    manual_student = make_student(name="司马光")
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    ctx.add_cookies([_session_cookie(operator_user, live_server)])
    d = ctx.new_page()
    d.goto(f"{live_server.url}/capture/desk/{campaign.pk}/{room.pk}/{day.isoformat()}/?desk=B")
    chsi = "XXCHSI0123456789ABCDEF-opaque"
    d.keyboard.type(chsi)
    d.keyboard.press("Enter")
    d.wait_for_selector(".result[data-result=refused][data-reason='code.unknown']")
    assert d.evaluate("document.getElementById('manual').open")  # the search opens for binding
    d.fill("#search-q", "欧阳")
    d.press("#search-q", "Enter")
    d.wait_for_selector(f"tr[data-student='{chsi_student.pk}'] .bind-code")
    d.screenshot(path=str(artifacts_dir / "capture_7_desk_bind.png"), full_page=True)
    d.click(f"tr[data-student='{chsi_student.pk}'] .bind-code")
    d.wait_for_selector(".result[data-result=issued]")
    assert d.inner_text(".student-name") == "欧阳娜娜" and d.get_attribute(".result", "data-number") == "1"
    assert ForeignCode.objects.get(student=chsi_student).raw_token == chsi
    # Later scans of the same CHSI code resolve directly.
    d.focus("#scan-code")
    d.keyboard.type(chsi)
    d.keyboard.press("Enter")
    d.wait_for_selector(".result[data-result=repeat]")
    # Manual check-in of a student without any code.
    d.fill("#search-q", manual_student.student_no)
    d.press("#search-q", "Enter")
    d.wait_for_selector(f"tr[data-student='{manual_student.pk}'] .manual-checkin")
    d.click(f"tr[data-student='{manual_student.pk}'] .manual-checkin")
    d.wait_for_selector(".result[data-result=issued][data-number='2']")
    assert d.inner_text(".student-name") == "司马光"
    d.screenshot(path=str(artifacts_dir / "capture_8_desk_manual.png"), full_page=True)
    kinds = list(CheckinScan.objects.order_by("pk").values_list("code_kind", "result", "desk"))
    assert kinds == [("foreign", "refused", "B"), ("foreign", "issued", "B"), ("foreign", "repeat", "B"),
                     ("manual", "issued", "B")]
    ctx.close()
    close_db_connections()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_renaming_the_desk_opens_it_again_under_the_new_name(allow_db_in_playwright, browser, live_server, campaign,
                                                            room, day, make_student, operator_user, project_static):
    """Scans through the desk token are recorded under the token's name, so a new name asks for a
    token bound to it (the page opens again) — and the next scan carries the new name."""
    from tucai.capture.models import CheckinScan, DeskToken
    from tucai.capture.services import codes

    student = make_student(name="改名")
    code = codes.capture_code_issue(student=student).token
    ctx = browser.new_context(locale="zh-CN")
    ctx.add_cookies([_session_cookie(operator_user, live_server)])
    d = ctx.new_page()
    d.goto(f"{live_server.url}/capture/desk/{campaign.pk}/{room.pk}/{day.isoformat()}/?desk=A")
    d.fill("#desk-name", "东门2号")
    with d.expect_navigation():
        d.press("#desk-name", "Tab")  # the change event
    assert "desk=%E4%B8%9C%E9%97%A82%E5%8F%B7" in d.url
    assert d.input_value("#desk-name") == "东门2号"
    d.focus("#scan-code")
    d.keyboard.type(code)
    d.keyboard.press("Enter")
    d.wait_for_selector(".result[data-result=issued]")
    assert list(CheckinScan.objects.values_list("desk", flat=True)) == ["东门2号"]
    assert set(DeskToken.objects.values_list("desk", flat=True)) == {"A", "东门2号"}
    # The old name's token was revoked on the way: one live token per desk.
    assert DeskToken.objects.get(desk="A").revoked_at is not None
    assert DeskToken.objects.get(desk="东门2号").revoked_at is None
    ctx.close()
    close_db_connections()
