"""Proofreading pages: the student's section of their phone page and the office's page; and the
student's part in headless Chromium."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tucai.proofing.models import Proof, ProofState
from tucai.proofing.services import proof_reply, proofing_open


def _student_client(campaign, student) -> Client:
    c = Client()
    r = c.post(f"/capture/c/{campaign.code}/me/login/", {"student_no": student.student_no,
                                                         "doc_tail": student.doc_number[-6:]})
    assert r.status_code == 302
    return c


def test_student_sees_their_photo_and_answers_on_their_phone_page(campaign, make_student, photograph, office_user):
    a, b = make_student(name="甲"), make_student(name="乙")
    shot_a = photograph(a)
    photograph(b)
    ca = _student_client(campaign, a)
    me = f"/capture/c/{campaign.code}/me/"
    assert 'id="proofing"' not in ca.get(me).content.decode()  # before publishing: only the code
    assert ca.get(reverse("proofing:me_photo", args=[campaign.code])).status_code == 404
    proofing_open(campaign=campaign, actor=office_user)
    html = ca.get(me).content.decode()
    assert 'id="proofing" data-open="1" data-state=""' in html and a.masked_doc_number in html
    photo = ca.get(reverse("proofing:me_photo", args=[campaign.code]))
    with shot_a.normalized.open("rb") as fh:
        assert photo.status_code == 200 and b"".join(photo) == fh.read()  # their own photo, nobody else's
    assert "private" in photo["Cache-Control"] and "no-store" in photo["Cache-Control"]
    assert Client().get(reverse("proofing:me_photo", args=[campaign.code])).status_code == 404  # signed out

    r = ca.post(reverse("proofing:me_reply", args=[campaign.code]),
                {"action": "correct", "field": "name", "detail": "应为“甲乙”"})
    assert r.status_code == 302
    assert Proof.objects.get(student=a).state == ProofState.OPEN
    html = ca.get(me).content.decode()
    assert 'data-state="open"' in html and "应为“甲乙”" in html
    # A bad answer is shown, not a 500, and changes nothing.
    r = ca.post(reverse("proofing:me_reply", args=[campaign.code]), {"action": "correct", "field": "x"}, follow=True)
    assert "请选择需要更正的项目" in r.content.decode()
    assert Proof.objects.get(student=a).detail == "应为“甲乙”"
    html = r.content.decode()
    assert 'id="proof-waiting"' in html and 'id="proof-confirm"' not in html  # an open request: no confirm
    assert "应为“甲乙”</textarea>" in html  # the request can be amended, not retyped
    # A refused request keeps what was typed and shows the error beside the form, not only at the page top.
    long = "很长" * 400
    r = ca.post(reverse("proofing:me_reply", args=[campaign.code]),
                {"action": "correct", "field": "doc_number", "detail": long}, follow=True)
    html = r.content.decode()
    assert 'id="proof-error"' in html and f"{long}</textarea>" in html
    assert '<option value="doc_number" selected>' in html and "<details id=\"proof-correct\" open>" in html
    assert Proof.objects.get(student=a).detail == "应为“甲乙”"
    assert 'id="proof-error"' not in ca.get(me).content.decode()    # shown once
    # Signed out: sent to sign in, nothing recorded.
    r = Client().post(reverse("proofing:me_reply", args=[campaign.code]), {"action": "confirm"})
    assert r.status_code == 302 and "/me/login/" in r["Location"]
    assert not Proof.objects.filter(student=b).exists()


def test_office_page_publishes_answers_and_exports_the_reminder_list(campaign, make_student, photograph,
                                                                      office_user, operator_user):
    a, b = make_student(), make_student()
    photograph(a)
    photograph(b)
    url = reverse("proofing:office", args=[campaign.code])
    op = Client()
    op.force_login(operator_user)
    assert op.get(url).status_code == 403
    c = Client()
    c.force_login(office_user)
    assert 'id="proofing-publish"' in c.get(url).content.decode()
    assert c.post(url).status_code == 302
    proof = proof_reply(student=a, to=ProofState.OPEN, field="photo", detail="头发挡住眉毛")
    html = c.get(url).content.decode()
    assert 'data-open="1"' in html and f'data-proof="{proof.pk}"' in html and f'data-student="{b.pk}"' in html
    seen = proof.replied_at.isoformat()
    assert f'name="seen" value="{seen}"' in html  # the form says which version of the request was read
    r = c.post(reverse("proofing:answer", args=[campaign.code, proof.pk]),
               {"to": "rejected", "answer": "眉毛可见", "seen": seen})
    assert r.status_code == 302
    proof.refresh_from_db()
    assert proof.state == ProofState.REJECTED and proof.answer == "眉毛可见"
    r = c.get(url + "?export=csv")
    text = r.content.decode("utf-8-sig")
    assert r.status_code == 200 and b.student_no in text and a.student_no not in text
    assert op.post(reverse("proofing:answer", args=[campaign.code, proof.pk]),
                   {"to": "fixed", "answer": "x"}).status_code == 403


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_student_confirms_on_the_phone(monkeypatch, browser, live_server, artifacts_dir, campaign, make_student,
                                       photograph, office_user):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    s = make_student(name="林小雨")
    photograph(s)
    proofing_open(campaign=campaign, actor=office_user)
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/capture/c/{campaign.code}/me/login/")
    page.fill("input[name=student_no]", s.student_no)
    page.fill("input[name=doc_tail]", s.doc_number[-6:])
    page.click("button[type=submit]")
    page.wait_for_selector("#proofing[data-open='1']")
    # The photo loads after the page: wait for it, then check it is the 480×640 one.
    width = page.wait_for_function("() => { const i = document.querySelector('.proof-photo');"
                                   " return i && i.complete && i.naturalWidth > 0 ? i.naturalWidth : false; }")
    assert width.json_value() == 480
    page.screenshot(path=str(artifacts_dir / "proofing_student.png"), full_page=True)
    page.click("#proof-confirm button")
    page.wait_for_selector("#proofing[data-state='confirmed']")
    assert Proof.objects.get(student=s).state == ProofState.CONFIRMED
    ctx.close()
    from django.db import connections

    connections.close_all()


def test_a_class_monitor_sees_the_reminder_list_of_their_own_class_only(campaign, institution, school_class,
                                                                          department, make_student, photograph,
                                                                          office_user, operator_user):
    from tests.conftest import make_user
    from tucai.accounts.models import Membership
    from tucai.campaigns.models import SchoolClass

    other = SchoolClass.objects.create(campaign=campaign, department=department, name="电商1212")
    mine, theirs = make_student(name="本班"), make_student(name="别班", school_class=other)
    photograph(mine)
    photograph(theirs)
    url = reverse("proofing:pending", args=[campaign.code])
    user = make_user("monitor")
    Membership.objects.create(user=user, institution=institution, role="monitor", school_class=school_class)
    m = Client()
    m.force_login(user)
    assert 'id="proofing-not-published"' in m.get(url).content.decode()
    proofing_open(campaign=campaign, actor=office_user)
    html = m.get(url).content.decode()
    assert 'id="class-scope"' in html and f'data-student="{mine.pk}"' in html and f'data-student="{theirs.pk}"' not in html
    text = m.get(url + "?export=csv").content.decode("utf-8-sig")
    assert mine.student_no in text and theirs.student_no not in text
    office = Client()
    office.force_login(office_user)
    html = office.get(url).content.decode()
    assert f'data-student="{mine.pk}"' in html and f'data-student="{theirs.pk}"' in html
    op = Client()
    op.force_login(operator_user)  # the capture unit's staff: not their list to chase
    assert op.get(url).status_code == 403


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_office_publishes_and_answers_a_correction_in_the_browser(monkeypatch, browser, live_server, artifacts_dir,
                                                                  campaign, make_student, photograph, office_user):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    from tests.conftest import browser_login

    a, b = make_student(name="甲"), make_student(name="乙")
    photograph(a)
    photograph(b)
    ctx = browser.new_context(locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, live_server.url, office_user.username, next_path=f"/c/{campaign.code}/")
    page.click(f"a[href='/proofing/c/{campaign.code}/']")
    page.click("#proofing-publish button")
    page.wait_for_selector("#proofing-window[data-open='1']")
    proof_reply(student=a, to=ProofState.OPEN, field="photo", detail="照片里闭眼了")
    page.reload()
    row = page.locator("#proofing-corrections tr[data-proof]")
    assert row.count() == 1
    page.wait_for_function("() => { const i = document.querySelector('#proofing-corrections img');"
                           " return i && i.complete && i.naturalWidth > 0; }")  # the photo in question
    assert page.get_attribute("#proofing-counts", "data-no-reply") == "1"
    page.screenshot(path=str(artifacts_dir / "proofing_office.png"), full_page=True)
    row.locator("select[name=to]").select_option("retake")
    row.locator("input[name=answer]").fill("安排补拍")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("#proofing-corrections td.muted")  # no open request left
    assert Proof.objects.get(student=a).state == ProofState.RETAKE
    ctx.close()
    from django.db import connections

    connections.close_all()
