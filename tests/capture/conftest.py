"""Fixtures for capture-day tests: a room, a day, tickets."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest

# The root conftest's plain helpers (make_user, resident_id); "conftest" here would name this file.
_spec = importlib.util.spec_from_file_location("tucai_root_conftest", Path(__file__).parent.parent / "conftest.py")
root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(root)
make_user = root.make_user
resident_id = root.resident_id

DAY = dt.date(2023, 3, 3)


@pytest.fixture
def room(institution):
    from tucai.campaigns.models import Room

    return Room.objects.create(institution=institution, building="实训楼", name="101", stations=2)


@pytest.fixture
def day():
    return DAY


@pytest.fixture
def make_ticket(campaign, room, make_student):
    """make_ticket(number=None, state="waiting", student=None): a ticket in the room's queue for DAY."""
    from tucai.capture.models import Ticket

    def make(number=None, state="waiting", student=None, **kw):
        if number is None:
            number = (Ticket.objects.filter(room=room, date=DAY).order_by("-number").values_list("number", flat=True)
                      .first() or 0) + 1
        return Ticket.objects.create(campaign=campaign, room=room, date=kw.pop("date", DAY), number=number,
                                     queue_order=number, student=student or make_student(), state=state, **kw)

    return make


@pytest.fixture
def user_factory(db):
    """The root conftest's make_user(username, institution=, role=)."""
    return make_user


@pytest.fixture
def allow_db_in_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls from
    the test body. List this fixture before ``browser`` so test setup can still write data."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def project_static(settings):
    """Serve src/tucai/static (htmx, tucai.css) in live_server tests. settings.py does not list it
    in STATICFILES_DIRS yet (requested); without it htmx is a 404 and nothing polls."""
    import tucai

    static = Path(tucai.__file__).parent / "static"
    if static not in [Path(p) for p in getattr(settings, "STATICFILES_DIRS", [])]:
        settings.STATICFILES_DIRS = [*getattr(settings, "STATICFILES_DIRS", []), static]


@pytest.fixture
def coded(make_student):
    """coded(**student fields) → (student, the token of a freshly issued capture code)."""
    from tucai.capture.services import codes

    def make(**kw):
        s = make_student(**kw)
        return s, codes.capture_code_issue(student=s).token
    return make
