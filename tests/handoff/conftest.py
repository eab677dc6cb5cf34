"""Fixtures for the hand-off package: accepted photos made through the real station services, with
a stand-in for the photo engine that returns a spec-conforming 480×640 JPEG."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest
from django.utils import timezone


def spec_jpeg(seed: int = 0, *, size=(480, 640), window_kb=(20, 40), **save) -> bytes:
    """A baseline JPEG of ``size`` whose file size falls inside ``window_kb`` (textured, so the quality
    search has something to encode)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = np.full((size[1], size[0], 3), (100, 197, 255), np.uint8)
    noise = rng.integers(-40, 40, size=(-(-size[1] // 8), -(-size[0] // 8), 3))
    blocks = np.kron(noise, np.ones((8, 8, 1)))[: size[1], : size[0]]
    base = np.clip(base + blocks, 0, 255).astype(np.uint8)
    im = Image.fromarray(base)
    for q in range(95, 5, -5):
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=q, **save)
        if window_kb[0] <= len(buf.getvalue()) / 1024 <= window_kb[1]:
            return buf.getvalue()
    raise AssertionError("no quality gives a file in the window")


class PassEngine:
    def __init__(self):
        self.seed = 0

    def __call__(self, data, *, profile, filename):
        self.seed += 1
        return SimpleNamespace(verdict="pass", report={"verdict": "pass", "checks": []},
                               normalized_jpeg=spec_jpeg(self.seed))


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def station(campaign, institution, media_root, monkeypatch):
    from tucai.campaigns.models import Room
    from tucai.stations.services import station_get_or_create

    monkeypatch.setattr("tucai.stations.services._photo_process", PassEngine())
    room = Room.objects.create(institution=institution, building="实训楼", name="101", stations=1)
    return station_get_or_create(campaign=campaign, room=room, name="1", actor_label="test")


@pytest.fixture
def photograph(station, campaign, operator_user):
    """photograph(student, code="TC1…") → the accepted Shot, through check-in ticket, station and accept."""
    from tucai.capture.models import Ticket
    from tucai.stations.services import shot_accept, shot_ingest, station_bind_ticket

    counter = {"n": 0}

    def make(student, *, code: str = ""):
        counter["n"] += 1
        n = counter["n"]
        ticket = Ticket.objects.filter(student=student, campaign=campaign).first() or Ticket.objects.create(
            campaign=campaign, room=station.room, date=timezone.localdate(), number=n, queue_order=n,
            student=student, state="called", called_at=timezone.now(), raw_code=code)
        if ticket.state != "called":
            ticket.state = "called"
            ticket.save(update_fields=["state"])
        station_bind_ticket(station=station, ticket=ticket, actor=operator_user)
        shot = shot_ingest(station=station, data=spec_jpeg(1000 + n), filename=f"IMG_{n}.JPG")
        return shot_accept(shot=shot, actor=operator_user)

    return make
