"""The office's hand-off page: permissions, the summary, the download, errors shown on the page;
and the page in headless Chromium."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from tucai.audit.models import AuditEntry


@pytest.fixture
def office_client(office_user):
    c = Client()
    c.force_login(office_user)
    return c


def test_only_holders_of_handoff_build_see_the_page(campaign, operator_user, office_client):
    url = reverse("handoff:page", args=[campaign.code])
    op = Client()
    op.force_login(operator_user)  # the capture unit's staff: no full ID numbers, no package
    assert op.get(url).status_code == 403
    assert op.post(reverse("handoff:build", args=[campaign.code])).status_code == 403
    assert Client().get(url).status_code == 302  # to the login page
    assert office_client.get(url).status_code == 200


def test_page_lists_who_is_left_out_and_download_builds_the_package(campaign, make_student, photograph,
                                                                    office_client, office_user):
    a, b = make_student(name="甲"), make_student(name="乙")
    photograph(a)
    r = office_client.get(reverse("handoff:page", args=[campaign.code]))
    html = r.content.decode()
    assert 'data-included="1" data-missing="1"' in html
    assert 'id="handoff-proofing" data-state="none"' in html  # not proofread yet: said before building
    from tucai.proofing.services import proofing_open

    proofing_open(campaign=campaign, actor=office_user)
    html = office_client.get(reverse("handoff:page", args=[campaign.code])).content.decode()
    assert 'id="handoff-proofing" data-state="open"' in html
    assert f'data-student="{b.pk}" data-reason="photo.none"' in html and f'data-student="{a.pk}"' not in html

    r = office_client.post(reverse("handoff:build", args=[campaign.code]), {"naming": "{student_no}"})
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert f'filename="chsi-{campaign.code}.zip"' in r["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content))) as zf:
        assert sorted(zf.namelist()) == sorted([f"{a.student_no}.jpg", "index.csv", "index.xlsx", "missing.csv"])
    assert AuditEntry.objects.get(action="handoff.build").actor == office_user


def test_a_long_left_out_list_is_cut_on_the_page_and_says_where_the_rest_is(campaign, make_student, office_client,
                                                                           monkeypatch):
    # Before the shoot all 2,000 students are left out: the page showed one table 74,000 px tall.
    from tucai.handoff import views

    monkeypatch.setattr(views, "LEFT_OUT_SHOWN", 2)
    for i in range(5):
        make_student(name=f"学生{i}")
    html = office_client.get(reverse("handoff:page", args=[campaign.code])).content.decode()
    assert 'data-missing="5"' in html and html.count('data-reason="photo.none"') == 2
    assert 'id="handoff-left-out-more"' in html and "missing.csv" in html


@pytest.mark.parametrize("data, code", [
    ({"naming": "{password}"}, "handoff.bad_naming"),
    ({"naming": "{doc_number}", "require_all": "1"}, "handoff.incomplete"),
])
def test_errors_are_shown_on_the_page_and_nothing_is_recorded(campaign, make_student, photograph, office_client,
                                                               data, code):
    photograph(make_student())
    make_student()
    r = office_client.post(reverse("handoff:build", args=[campaign.code]), data)
    assert r.status_code == 400 and f'data-code="{code}"' in r.content.decode()
    assert not AuditEntry.objects.filter(action="handoff.build").exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_office_downloads_the_package_in_the_browser(monkeypatch, browser, live_server, artifacts_dir, campaign,
                                                     make_student, photograph, office_user):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    from tests.conftest import browser_login

    a, b = make_student(name="甲"), make_student(name="乙")
    photograph(a)
    ctx = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = ctx.new_page()
    browser_login(page, live_server.url, office_user.username, next_path=f"/c/{campaign.code}/")
    page.click(f"a[href='/handoff/c/{campaign.code}/']")
    page.wait_for_selector("#handoff-summary")
    assert page.get_attribute("#handoff-summary", "data-included") == "1"
    assert page.inner_text(f"tr[data-student='{b.pk}'] td:last-child") == "没有已采用的照片（需补拍）"
    page.screenshot(path=str(artifacts_dir / "handoff_page.png"), full_page=True)
    with page.expect_download() as dl:
        page.click("#handoff-form button[type=submit]")
    path = dl.value.path()
    assert dl.value.suggested_filename == f"chsi-{campaign.code}.zip"
    with zipfile.ZipFile(path) as zf:
        assert f"{a.doc_number}.jpg" in zf.namelist()
    ctx.close()
    from django.db import connections

    connections.close_all()
