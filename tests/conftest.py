"""Shared fixtures. Tests mirror the source tree: tests/photo, tests/campaigns, tests/capture ..."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FACES_DIR = Path(os.environ.get("TUCAI_FACES_DIR", REPO.parent / "shared" / "faces"))
CHROMIUM = os.environ.get("TUCAI_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _default_language():
    """A request through LocaleMiddleware leaves its language active in the thread; put the default
    (简体中文) back after every test so no test depends on the one before it."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The labelled real portraits in ../shared/faces (skips where that folder is absent)."""
    if not (FACES_DIR / "labels.csv").exists():
        pytest.skip(f"labelled portraits not found at {FACES_DIR} (set TUCAI_FACES_DIR); skipping")
    return FACES_DIR


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium for Playwright. Skips if absent, unless TUCAI_REQUIRE_BROWSER=1 (CI)."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("TUCAI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} and TUCAI_REQUIRE_BROWSER=1")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium); skipping browser test")
    return CHROMIUM


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def browser(chromium_path, monkeypatch):
    """A headless Chromium driven by Playwright (never downloads a browser)."""
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in the test thread; Django's ORM refuses sync calls there.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def browser_login(page, base_url: str, username: str, *, next_path: str = "/",
                  password: str = "pw-Tucai-2024!") -> None:
    """Sign in through the real login page, then land on ``next_path``."""
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests leave screenshots and files for a person to look at."""
    d = REPO / "test-artifacts"
    d.mkdir(exist_ok=True)
    return d


# --- campaign data -------------------------------------------------------------------------

@pytest.fixture
def institution(db):
    from tucai.campaigns.models import Institution

    return Institution.objects.create(code="hnpt", name="湖南理工职业技术学院")


@pytest.fixture
def campaign(institution):
    from tucai.campaigns.models import Campaign

    return Campaign.objects.create(
        institution=institution, code="test-2024", name="2024届毕业生图像采集", graduation_year=2024,
        capture_start=dt.date(2023, 3, 3), capture_end=dt.date(2023, 3, 3), fee_per_student_fen=2000,
    )


@pytest.fixture
def department(institution):
    from tucai.campaigns.models import Department

    return Department.objects.create(institution=institution, name="管理艺术学院")


@pytest.fixture
def school_class(campaign, department):
    from tucai.campaigns.models import SchoolClass

    return SchoolClass.objects.create(campaign=campaign, department=department, name="电商1211")


@pytest.fixture
def make_student(school_class):
    """Factory: make_student(student_no="2021001", name="张三", doc_number=<valid resident id>)."""
    from tucai.campaigns.models import Student

    counter = {"n": 0}

    def make(**kw):
        counter["n"] += 1
        n = counter["n"]
        kw.setdefault("campaign", school_class.campaign)
        kw.setdefault("school_class", school_class)
        kw.setdefault("student_no", f"2021{n:05d}")
        kw.setdefault("name", f"学生{n}")
        kw.setdefault("doc_number", resident_id(f"430521", dt.date(2002, 1, 1) + dt.timedelta(days=n), n))
        return Student.objects.create(**kw)

    return make


def resident_id(area: str, birth: dt.date, seq: int) -> str:
    """A format-valid 18-character resident ID (ISO 7064 MOD 11-2 check character)."""
    body = f"{area}{birth:%Y%m%d}{seq % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def make_user(username: str, *, institution=None, role: str | None = None, password: str = "pw-Tucai-2024!", **kw):
    from tucai.accounts.models import Membership, User

    user = User.objects.create_user(username=username, password=password, **kw)
    if institution is not None and role is not None:
        Membership.objects.create(user=user, institution=institution, role=role)
    return user


@pytest.fixture
def office_user(institution):
    return make_user("office", institution=institution, role="office")


@pytest.fixture
def operator_user(institution):
    return make_user("operator", institution=institution, role="operator")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL, end any session a live-server thread left on the test database before pytest-django
    drops it (otherwise: "database is being accessed by other users" and the database is left behind)."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
