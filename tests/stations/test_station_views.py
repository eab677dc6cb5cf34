"""Station pages: permissions, masked IDs, upload, live fragment, decisions, unmatched bucket."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tucai.stations.models import Shot, ShotState

pytestmark = pytest.mark.django_db


@pytest.fixture
def op_client(client, operator_user):
    client.force_login(operator_user)
    return client


def test_station_page_needs_station_operate(client, station, institution):
    from tucai.accounts.models import Membership, User

    url = reverse("stations:station", args=[station.pk])
    assert client.get(url).status_code == 302  # to login
    monitor = User.objects.create_user(username="m", password="x")
    Membership.objects.create(user=monitor, institution=institution, role="monitor")
    client.force_login(monitor)
    assert client.get(url).status_code == 403
    assert client.get(reverse("stations:live", args=[station.pk])).status_code == 403
    # Nor the list of stations (it offered them a "create below" with no form).
    assert client.get(reverse("stations:index")).status_code == 403


def test_operator_sees_masked_id_office_sees_full(client, station, make_ticket, operator_user, office_user):
    ticket = make_ticket(state="called")
    doc = ticket.student.doc_number
    client.force_login(operator_user)
    html = client.get(reverse("stations:station", args=[station.pk])).content.decode()
    assert ticket.student.name in html and ticket.student.masked_doc_number in html and doc not in html
    assert f'data-number="{ticket.number}"' in html
    # The capture helper's queue controls are loaded into the page.
    assert reverse("capture:queue_controls", args=[station.room_id, ticket.date.isoformat()]) in html
    client.force_login(office_user)
    assert doc in client.get(reverse("stations:station", args=[station.pk])).content.decode()


def test_upload_check_accept_through_the_page(op_client, station, make_ticket, make_jpeg, engine):
    ticket = make_ticket(state="called")
    up = SimpleUploadedFile("phone.jpg", make_jpeg(1), content_type="image/jpeg")
    r = op_client.post(reverse("stations:upload", args=[station.pk]), {"photo": up}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    html = r.content.decode()
    shot = Shot.objects.get()
    assert shot.ticket_id == ticket.pk and 'data-verdict="pass"' in html
    assert reverse("stations:shot_action", args=[shot.pk, "accept"]) in html
    # Live fragment: unchanged version → 204 (htmx keeps the page), otherwise the fragment.
    live = reverse("stations:live", args=[station.pk])
    first = op_client.get(live)
    version = first.content.decode().split('data-version="')[1].split('"')[0]
    assert op_client.get(live, {"v": version}).status_code == 204
    # Images are served to operators only.
    assert op_client.get(reverse("stations:shot_image", args=[shot.pk, "preview"])).status_code == 200
    r = op_client.post(reverse("stations:shot_action", args=[shot.pk, "accept"]), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    shot.refresh_from_db()
    assert shot.state == ShotState.ACCEPTED
    assert op_client.get(live, {"v": version}).status_code == 200  # changed → re-rendered
    assert op_client.get(reverse("stations:shot_image", args=[shot.pk, "photo"])).status_code == 200


def test_failed_check_shows_reasons_zh_and_en_and_override_needs_reason(
        op_client, station, make_ticket, make_jpeg, engine):
    engine.verdict = "retake"
    make_ticket(state="called")
    up = SimpleUploadedFile("x.jpg", make_jpeg(2), content_type="image/jpeg")
    html = op_client.post(reverse("stations:upload", args=[station.pk]), {"photo": up},
                          HTTP_HX_REQUEST="true").content.decode()
    assert "眼睛未睁开" in html and "Eyes closed" in html and 'data-verdict="retake"' in html
    shot = Shot.objects.get()
    assert reverse("stations:shot_action", args=[shot.pk, "accept"]) not in html
    r = op_client.post(reverse("stations:shot_action", args=[shot.pk, "override"]), {"reason": ""},
                       HTTP_HX_REQUEST="true")
    assert 'data-code="shot.override_reason_required"' in r.content.decode()
    shot.refresh_from_db()
    assert shot.state == ShotState.CHECKED
    op_client.post(reverse("stations:shot_action", args=[shot.pk, "override"]), {"reason": "人工复核合格"},
                   HTTP_HX_REQUEST="true")
    shot.refresh_from_db()
    assert shot.state == ShotState.OVERRIDE


def test_upload_without_file_is_a_clear_error(op_client, station):
    r = op_client.post(reverse("stations:upload", args=[station.pk]), {}, HTTP_HX_REQUEST="true")
    assert 'data-code="shot.no_file"' in r.content.decode()
    assert Shot.objects.count() == 0


def test_bind_from_queue_event_sets_the_station_ticket(op_client, station, make_ticket):
    t = make_ticket(state="called")
    op_client.post(reverse("stations:bind", args=[station.pk]), {"ticket": t.pk}, HTTP_HX_REQUEST="true")
    station.refresh_from_db()
    assert station.current_ticket_id == t.pk


def test_unmatched_page_and_reassign(op_client, station, make_ticket, make_jpeg, engine):
    from tucai.stations.services import shot_ingest

    shot = shot_ingest(station=station, data=make_jpeg(3), filename="x.jpg")
    ticket = make_ticket(state="called")
    url = reverse("stations:unmatched", args=[station.campaign.code])
    html = op_client.get(url, {"q": ticket.student.student_no}).content.decode()
    assert f'data-shot="{shot.pk}"' in html and ticket.student.name in html
    r = op_client.post(reverse("stations:shot_action", args=[shot.pk, "reassign"]),
                       {"ticket": ticket.pk, "next": "unmatched"})
    assert r.status_code == 302
    shot.refresh_from_db()
    assert shot.state == ShotState.CHECKED and shot.student_id == ticket.student_id
    assert f'data-shot="{shot.pk}"' not in op_client.get(url).content.decode()


def test_station_create_form(op_client, campaign, room, media_root):
    r = op_client.post(reverse("stations:create"), {"campaign": campaign.pk, "room": room.pk, "name": "A"})
    assert r.status_code == 302
    index = op_client.get(reverse("stations:index")).content.decode()
    assert "A" in index
    assert reverse("campaigns:detail", args=[campaign.code]) in index      # a way back to the campaign
