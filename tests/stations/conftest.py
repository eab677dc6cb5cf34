"""Fixtures for camera-station tests: a room, a station, tickets for today, a fake photo engine."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from django.utils import timezone


def jpeg_bytes(seed: int = 0, size=(600, 800), color=None) -> bytes:
    """A small distinct JPEG (the seed changes the pixels, so the content hash)."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", size, color or (100, 197, 255))
    d = ImageDraw.Draw(im)
    d.rectangle([seed % 200, 100 + seed % 300, 300 + seed % 200, 500], fill=((seed * 37) % 256, 80, 60))
    d.text((10, 10), f"frame {seed}", fill=(0, 0, 0))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def room(institution):
    from tucai.campaigns.models import Room

    return Room.objects.create(institution=institution, building="实训楼", name="101", stations=1)


@pytest.fixture
def station(campaign, room, media_root):
    from tucai.stations.services import station_get_or_create

    return station_get_or_create(campaign=campaign, room=room, name="1", actor_label="test")


@pytest.fixture
def make_ticket(campaign, room, make_student):
    """make_ticket(state="called", student=None): a ticket in the room's queue today."""
    from tucai.capture.models import Ticket

    def make(state="called", student=None, **kw):
        today = timezone.localdate()
        n = (Ticket.objects.filter(room=room, date=today).order_by("-number").values_list("number", flat=True)
             .first() or 0) + 1
        return Ticket.objects.create(campaign=campaign, room=kw.pop("room", room), date=today, number=n,
                                     queue_order=n, student=student or make_student(), state=state,
                                     called_at=timezone.now() if state != "waiting" else None, **kw)

    return make


class FakeEngine:
    """Stands in for tucai.photo.pipeline.process in unit tests: returns the verdict it is told to,
    and records the calls, so the station's own logic is tested apart from the face models."""

    def __init__(self):
        self.verdict = "pass"
        self.calls = []
        self.raise_exc = None

    def __call__(self, data, *, profile, filename):
        self.calls.append((len(data), profile, filename))
        if self.raise_exc:
            raise self.raise_exc
        ok = self.verdict == "pass"
        checks = [
            {"id": "face.width", "ok": True, "value": 240, "limit": [180, 300],
             "message_zh": "脸宽合格", "message_en": "Face width OK"},
            {"id": "eyes.open", "ok": ok, "value": 0.1 if not ok else 0.3, "limit": 0.18,
             "message_zh": "眼睛未睁开" if not ok else "眼睛睁开", "message_en": "Eyes closed" if not ok else "Eyes open"},
        ]
        return SimpleNamespace(verdict=self.verdict, report={"verdict": self.verdict, "checks": checks},
                               normalized_jpeg=jpeg_bytes(999, size=(480, 640)) if self.verdict != "error" else None)


@pytest.fixture
def engine(monkeypatch):
    fake = FakeEngine()
    monkeypatch.setattr("tucai.stations.services._photo_process", fake)
    return fake


@pytest.fixture
def make_jpeg():
    return jpeg_bytes
