"""The whole capture day in headless Chromium: the student's code page → scan at the desk → number on
the display → called at the station → a photo lands in the hot folder → verdict on the station page →
accept → progress updated."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

pytestmark = [pytest.mark.browser]


def _session_cookie(user, live_server):
    c = Client()
    c.force_login(user)
    return {"name": "sessionid", "value": c.cookies["sessionid"].value, "url": live_server.url}


def compliant_portrait(faces_dir: Path) -> bytes:
    """A photo that passes the CHSI checks, made from a labelled frontal portrait: the person kept,
    the background replaced by the spec's light blue (what the backdrop of a real station gives).
    The first labelled candidate that the engine passes is used; skips if none does."""
    import numpy as np
    from PIL import Image

    from tucai.photo import analysis
    from tucai.photo.pipeline import process

    rows = [r for r in csv.DictReader((faces_dir / "labels.csv").open(encoding="utf-8"))
            if (r["faces"], r["frontal"], r["eyes_open"], r["mouth_closed"], r["glasses"], r["head_cover"],
                r["blur"]) == ("1", "yes", "yes", "yes", "none", "no", "no")]
    models = analysis.MODELS.get()
    for r in rows:
        path = next((p for p in (faces_dir / r["split"] / r["file"], faces_dir / r["file"]) if p.exists()), None)
        if path is None:
            continue
        rgb = np.asarray(Image.open(path).convert("RGB"))
        mask = analysis._segment(rgb, models)
        if mask is None:
            continue
        alpha = np.clip((mask - 0.3) / 0.4, 0, 1)[..., None]
        out = (rgb * alpha + np.array((100, 197, 255)) * (1 - alpha)).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(out).save(buf, "JPEG", quality=92)
        if process(buf.getvalue(), profile="chsi", normalize=True).verdict == "pass":
            return buf.getvalue()
    pytest.skip("no labelled portrait in faces_dir passes the checks after background replacement")


@pytest.fixture
def allow_db_in_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls from the
    test body (plain sync code here). Listed before ``browser`` so fixture setup can write data too."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.faces
@pytest.mark.django_db(transaction=True)
def test_capture_day(allow_db_in_playwright, browser, live_server, artifacts_dir, faces_dir, settings, tmp_path,
                     campaign, school_class, make_student, operator_user, office_user):

    settings.MEDIA_ROOT = tmp_path / "media"

    from tucai.campaigns.models import Room
    from tucai.capture.models import Ticket, TicketState
    from tucai.stations.models import Shot, ShotState
    from tucai.stations.services import station_get_or_create
    from tucai.stations.watcher import HotFolderWatcher

    photo = compliant_portrait(faces_dir)
    room = Room.objects.create(institution=campaign.institution, building="实训楼", name="101")
    hot = tmp_path / "hot"
    hot.mkdir()
    station = station_get_or_create(campaign=campaign, room=room, name="1", hot_folder=str(hot))
    me = make_student(name="林小雨")
    make_student(name="缺席生")  # never comes: stays on the make-up list
    day = timezone.localdate().isoformat()

    # 1. The student signs in on the phone and sees the code.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN")
    p = phone.new_page()
    p.goto(f"{live_server.url}/capture/c/{campaign.code}/me/login/")
    p.fill("input[name=student_no]", me.student_no)
    p.fill("input[name=doc_tail]", me.doc_number[-6:])
    p.click("button[type=submit]")
    p.wait_for_selector("#my-qr svg")
    token = p.inner_text("#my-token").strip()
    p.screenshot(path=str(artifacts_dir / "day_1_student_code.png"), full_page=True)

    # 2. The desk scans it (a keyboard-wedge scanner types the token and Enter) and issues the number.
    staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    staff.add_cookies([_session_cookie(operator_user, live_server)])
    d = staff.new_page()
    d.goto(f"{live_server.url}/capture/desk/{campaign.pk}/{room.pk}/{day}/?desk=A")
    d.keyboard.type(token)
    d.keyboard.press("Enter")
    d.wait_for_selector(".result[data-result=issued]")
    number = int(d.get_attribute(".result", "data-number"))
    d.screenshot(path=str(artifacts_dir / "day_2_desk.png"), full_page=True)

    # 3. The public display lists the number.
    tv = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    tv.goto(f"{live_server.url}/capture/display/{room.pk}/{day}/")
    tv.wait_for_selector(f".next-number[data-number='{number}']")

    # 4. The photographer calls the next student from the station page; the station takes that ticket.
    s = staff.new_page()
    s.goto(f"{live_server.url}/stations/{station.pk}/")
    s.wait_for_selector(".queue-call-next")
    s.click(".queue-call-next")
    s.wait_for_selector(f"#current .number[data-number='{number}']")
    assert s.inner_text("#current .name") == "林小雨"
    assert s.inner_text("#current .doc") == me.masked_doc_number
    tv.wait_for_selector(f".serving-number[data-number='{number}']")
    tv.screenshot(path=str(artifacts_dir / "day_3_display.png"))
    station.refresh_from_db()
    ticket = Ticket.objects.get(student=me)
    assert station.current_ticket_id == ticket.pk

    # 5. The tethered camera writes the frame under a temp name, then renames it into place; the
    #    watcher's poll (in-process: the live server shares this test's database) takes it.
    tmp_name = hot / "IMG_0001.JPG.tmp"
    with tmp_name.open("wb") as fh:
        for k in range(0, len(photo), 64 * 1024):
            fh.write(photo[k:k + 64 * 1024])
    watcher = HotFolderWatcher(station=station, directory=hot, interval=0.1)
    assert watcher.poll().taken == []  # the temp name is not a photo yet
    tmp_name.rename(hot / "IMG_0001.JPG")
    taken = []
    for _ in range(50):
        taken += watcher.poll().taken
        if taken:
            break
        time.sleep(0.1)
    assert len(taken) == 1 and taken[0].ticket_id == ticket.pk and taken[0].verdict == "pass"

    # 6. The verdict appears on the station page (polled fragment), with the normalised preview.
    s.wait_for_selector("#latest-shot [data-verdict=pass]")
    s.wait_for_selector("#latest-shot img.preview")
    # The preview loads after the fragment that shows it (and the fragment is polled, so the element can
    # be replaced): wait for a loaded image and read its width in the same step.
    width = s.wait_for_function("() => { const i = document.querySelector('#latest-shot img.preview');"
                                " return i && i.complete && i.naturalWidth > 0 ? i.naturalWidth : false; }")
    assert width.json_value() == 480
    s.screenshot(path=str(artifacts_dir / "day_4_station_verdict.png"), full_page=True)

    # 7. Accept: the normalised photo is stored and the ticket is done.
    s.click("#latest-shot button.accept")
    s.wait_for_selector("#latest-shot [data-state=accepted]")
    s.screenshot(path=str(artifacts_dir / "day_5_station_accepted.png"), full_page=True)
    shot = Shot.objects.get(pk=taken[0].pk)
    assert shot.state == ShotState.ACCEPTED and shot.normalized.name
    ticket.refresh_from_db()
    assert ticket.state == TicketState.DONE

    # 8. Progress: one accepted, the absent student on the make-up list.
    office = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    office.add_cookies([_session_cookie(office_user, live_server)])
    g = office.new_page()
    g.goto(f"{live_server.url}/stations/c/{campaign.code}/progress/")
    total = g.locator("#progress-total")
    assert (total.get_attribute("data-expected"), total.get_attribute("data-checked-in"),
            total.get_attribute("data-photographed"), total.get_attribute("data-accepted")) == ("2", "1", "1", "1")
    absentees = g.inner_text("#absentees")
    assert "缺席生" in absentees and "林小雨" not in absentees
    g.screenshot(path=str(artifacts_dir / "day_6_progress.png"), full_page=True)
    for ctx in (phone, staff, office):
        ctx.close()


@pytest.mark.django_db(transaction=True)
def test_unmatched_frame_reassigned_from_the_bucket(allow_db_in_playwright, browser, live_server, artifacts_dir,
                                                    settings, tmp_path, campaign, school_class, make_student,
                                                    operator_user):
    """A frame shot while nobody was called lands in the unmatched bucket; the operator finds the
    student's ticket and assigns it; the station then shows it bound to that student."""
    from PIL import Image, ImageDraw

    from tucai.campaigns.models import Room
    from tucai.capture.models import Ticket
    from tucai.stations.models import Shot, ShotState
    from tucai.stations.services import station_get_or_create
    from tucai.stations.watcher import HotFolderWatcher

    settings.MEDIA_ROOT = tmp_path / "media"
    room = Room.objects.create(institution=campaign.institution, building="实训楼", name="102")
    station = station_get_or_create(campaign=campaign, room=room, name="2")
    hot = tmp_path / "hot"
    hot.mkdir()
    im = Image.new("RGB", (600, 800), (100, 197, 255))
    ImageDraw.Draw(im).ellipse([200, 200, 400, 450], fill=(220, 180, 150))
    im.save(hot / "IMG_0100.JPG", quality=90)
    watcher = HotFolderWatcher(station=station, directory=hot, interval=0)
    watcher.poll()
    [shot] = watcher.poll().taken
    assert shot.state == ShotState.UNMATCHED and shot.verdict  # checked even without a student

    student = make_student(name="王补拍")
    ticket = Ticket.objects.create(campaign=campaign, room=room, date=timezone.localdate(), number=7, queue_order=7,
                                   student=student, state="at_camera")
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    ctx.add_cookies([_session_cookie(operator_user, live_server)])
    page = ctx.new_page()
    page.goto(f"{live_server.url}/stations/c/{campaign.code}/unmatched/?q={student.student_no}")
    card = page.locator(f".unmatched-shot[data-shot='{shot.pk}']")
    card.locator("select[name=ticket]").select_option(str(ticket.pk))
    page.screenshot(path=str(artifacts_dir / "day_7_unmatched.png"), full_page=True)
    card.locator("button:has-text('分配')").click()
    page.wait_for_selector("text=没有未匹配的照片")
    shot = Shot.objects.get(pk=shot.pk)
    assert shot.ticket_id == ticket.pk and shot.student_id == student.pk and shot.state == ShotState.CHECKED
    page.goto(f"{live_server.url}/stations/{station.pk}/")
    page.wait_for_selector("#latest-shot [data-verdict]")
    assert "王补拍" in page.inner_text("#latest-shot")
    page.screenshot(path=str(artifacts_dir / "day_8_station_after_reassign.png"), full_page=True)
    ctx.close()
