"""The office records a class collection in a real browser: unpaid students come preselected, one is
unticked (absent), the running total follows, the class totals update; the screenshot is left in
test-artifacts/."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_records_class_collection(browser, live_server, artifacts_dir, settings, tmp_path, monkeypatch):
    from tests.conftest import browser_login, make_user

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from tucai.campaigns.models import Campaign
    from tucai.fees import selectors

    settings.DATA_DIR = tmp_path
    call_command("demo", stdout=StringIO())
    campaign = Campaign.objects.get(code="demo-2024")
    make_user("cashier", institution=campaign.institution, role="office")
    school_class = campaign.classes.order_by("name").first()
    students = list(selectors.student_fee_rows(campaign=campaign, class_ids=[school_class.pk]))
    assert len(students) >= 2
    absent, part = students[0], students[1]
    # a part-payer (15 of 20 元 paid) is preselected and counted for what they still owe
    from tucai.fees.services import payment_record
    payment_record(campaign=campaign, students=[part], method="cash", amount_fen_each=1500)
    owed_part = campaign.fee_per_student_fen - 1500

    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    browser_login(page, live_server.url, "cashier", next_path=f"/fees/c/{campaign.code}/class/{school_class.pk}/")
    page.wait_for_selector("#class-collection")
    boxes = page.locator('#fee-students input[type=checkbox]')
    assert boxes.count() == len(students)
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))   # nobody has paid in full yet
    page.uncheck(f'input[aria-label="{absent.student_no}"]')
    # the running total the cashier checks against the cash counted (display only)
    assert page.inner_text("#collect-total .n") == str(len(students) - 1)
    assert page.inner_text("#collect-total .t") == f"{(campaign.fee_per_student_fen * (len(students) - 2) + owed_part) / 100:.2f}"
    # the page's parser agrees with the server's (money.yuan_to_fen): full-width digits from a Chinese IME
    # are read after NFKC, other scripts' digits are not an amount
    page.fill('input[name=amount_yuan]', "１２．５")
    assert page.inner_text("#collect-total .t") == f"{(1250 * (len(students) - 2) + min(1250, owed_part)) / 100:.2f}"
    page.fill('input[name=amount_yuan]', "٢٠")
    assert page.inner_text("#collect-total .t") == "—"
    page.fill('input[name=amount_yuan]', "20")
    page.select_option('select[name=method]', "wechat")
    page.fill('input[name=reference]', "WX-BROWSER-1")
    page.click('#class-collection button')
    page.wait_for_selector(".messages li")
    page.screenshot(path=str(artifacts_dir / "fees-class.png"), full_page=True)
    total = page.locator("#class-total")
    assert total.get_attribute("data-paid") == str(len(students) - 1)
    assert total.get_attribute("data-unpaid") == "1"
    assert page.locator(f'tr[data-student-no="{absent.student_no}"]').get_attribute("data-paid") == "0"
    paid = selectors.students_paid(campaign=campaign, student_ids=[s.pk for s in students])
    assert [s.pk for s in students if not paid[s.pk]] == [absent.pk]
