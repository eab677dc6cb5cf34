"""Roster pages: upload → dry run → confirm → commit; exports; permissions scoped to the institution."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.campaigns.test_roster import clean_rows, csv_bytes, messy_gbk_csv, xlsx_bytes
from tests.conftest import browser_login, make_user
from tucai.audit.models import AuditEntry
from tucai.campaigns.models import Campaign, ImportJob, Institution, Student


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path  # uploaded rosters go to DATA_DIR/private
    return tmp_path / "private"


@pytest.fixture
def office(client, office_user):
    client.force_login(office_user)
    return client


def upload(client, campaign, data: bytes, name: str, full: bool = False):
    return client.post(reverse("campaigns:roster_import", args=[campaign.code]),
                       {"file": SimpleUploadedFile(name, data), **({"full": "on"} if full else {})})


def test_upload_messy_file_shows_row_errors_and_imports_nothing(office, campaign, private_dir):
    r = upload(office, campaign, messy_gbk_csv(), "名单.csv")
    assert r.status_code == 302
    job = ImportJob.objects.get()
    assert r["Location"] == reverse("campaigns:roster_job", args=[campaign.code, job.pk])
    assert job.status == "invalid" and len(job.errors) == 7
    page = office.get(r["Location"]).content.decode()
    assert "7 处错误，未导入任何数据" in page
    assert "校验码错误" in page and "<td>3</td>" in page and "身份证号码" in page
    assert "confirm-import" not in page
    assert Student.objects.count() == 0
    errors_csv = office.get(reverse("campaigns:roster_job_errors", args=[campaign.code, job.pk]))
    assert errors_csv.content.startswith(b"\xef\xbb\xbf") and "id.check_digit" in errors_csv.content.decode("utf-8-sig")


def test_upload_confirm_commit(office, campaign, office_user, private_dir):
    r = upload(office, campaign, xlsx_bytes(clean_rows(4)), "名单.xlsx")
    job = ImportJob.objects.get()
    assert job.status == "valid" and job.summary["created"] == 4 and job.rows_total == 4
    stored = private_dir / job.stored_path
    assert stored.exists()
    page = office.get(r["Location"]).content.decode()
    assert 'id="n-created">4<' in page and "confirm-import" in page
    assert Student.objects.count() == 0  # dry run only so far
    r = office.post(reverse("campaigns:roster_job_commit", args=[campaign.code, job.pk]))
    assert r.status_code == 302
    job.refresh_from_db()
    assert job.status == "done" and job.summary["committed"] is True
    assert Student.objects.filter(campaign=campaign).count() == 4
    assert not stored.exists() and job.stored_path == ""  # personal data does not linger
    assert AuditEntry.objects.filter(action="student.create", actor=office_user).count() == 4
    assert "导入完成" in office.get(r["Location"]).content.decode()
    # confirming twice does nothing
    office.post(reverse("campaigns:roster_job_commit", args=[campaign.code, job.pk]))
    assert Student.objects.count() == 4


def test_full_import_summary_and_cancel(office, campaign):
    upload(office, campaign, csv_bytes(clean_rows(3)), "a.csv")
    office.post(reverse("campaigns:roster_job_commit", args=[campaign.code, ImportJob.objects.get().pk]))
    upload(office, campaign, csv_bytes(clean_rows(1)), "b.csv", full=True)
    job = ImportJob.objects.filter(filename="b.csv").get()
    assert job.full and job.status == "valid" and job.summary["deactivated"] == 2
    office.post(reverse("campaigns:roster_job_cancel", args=[campaign.code, job.pk]))
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert Student.objects.filter(status="active").count() == 3


def test_database_changed_between_dry_run_and_commit(office, campaign, make_student):
    rows = clean_rows(2)
    upload(office, campaign, csv_bytes(rows), "a.csv")
    job = ImportJob.objects.get()
    assert job.status == "valid"
    make_student(student_no="X1", doc_number=rows[1][4])  # someone took that ID meanwhile
    office.post(reverse("campaigns:roster_job_commit", args=[campaign.code, job.pk]))
    job.refresh_from_db()
    assert job.status == "invalid" and job.errors[0]["code"] == "roster.doc_number_taken"
    assert Student.objects.count() == 1


def test_htmx_poll_returns_the_fragment(office, campaign):
    upload(office, campaign, csv_bytes(clean_rows(1)), "a.csv")
    job = ImportJob.objects.get()
    r = office.get(reverse("campaigns:roster_job", args=[campaign.code, job.pk]), HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert body.lstrip().startswith("<div id=\"roster-job\"") and "<html" not in body
    assert 'data-status="valid"' in body and "hx-trigger" not in body  # finished: no more polling
    job.status = "validating"
    job.rows_done, job.rows_total = 500, 2000
    job.save()
    body = office.get(reverse("campaigns:roster_job", args=[campaign.code, job.pk]), HTTP_HX_REQUEST="true"
                      ).content.decode()
    assert 'hx-trigger="every 1s"' in body and 'value="25"' in body and "500 / 2000" in body


def test_bad_file_type_is_refused_by_the_form(office, campaign):
    r = upload(office, campaign, b"x", "名单.pdf")
    assert r.status_code == 200 and ".xlsx" in r.content.decode()
    assert ImportJob.objects.count() == 0


def test_unreadable_file_is_a_clear_error(office, campaign):
    upload(office, campaign, b"not a zip", "名单.xlsx")
    job = ImportJob.objects.get()
    assert job.status == "invalid" and job.error["code"] == "roster.unreadable"
    assert "无法读取" in office.get(reverse("campaigns:roster_job", args=[campaign.code, job.pk])).content.decode()


def test_export_downloads(office, campaign, make_student):
    s = make_student(name="@evil")
    r = office.get(reverse("campaigns:roster_export", args=[campaign.code, "csv"]))
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    data = b"".join(r.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "'@evil" in text and s.doc_number in text
    r = office.get(reverse("campaigns:roster_export", args=[campaign.code, "xlsx"]))
    assert r.status_code == 200 and b"".join(r.streaming_content)[:2] == b"PK"
    assert office.get(reverse("campaigns:roster_export", args=[campaign.code, "pdf"])).status_code == 404


@pytest.fixture
def other_operator(db):
    other = Institution.objects.create(code="other", name="另一所学院")
    return make_user("other-op", institution=other, role="operator")


def test_operator_of_another_institution_gets_403(client, campaign, other_operator, office_user):
    client.force_login(office_user)
    upload(client, campaign, csv_bytes(clean_rows(1)), "a.csv")
    job = ImportJob.objects.get()
    client.force_login(other_operator)
    urls = [
        reverse("campaigns:roster_import", args=[campaign.code]),
        reverse("campaigns:roster_job", args=[campaign.code, job.pk]),
        reverse("campaigns:roster_job_errors", args=[campaign.code, job.pk]),
        reverse("campaigns:roster_export", args=[campaign.code, "csv"]),
        reverse("campaigns:roster_export", args=[campaign.code, "xlsx"]),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert upload(client, campaign, csv_bytes(clean_rows(2)), "b.csv").status_code == 403
    assert client.post(reverse("campaigns:roster_job_commit", args=[campaign.code, job.pk])).status_code == 403
    assert client.post(reverse("campaigns:roster_job_cancel", args=[campaign.code, job.pk])).status_code == 403
    assert ImportJob.objects.count() == 1 and Student.objects.count() == 0


def test_operator_of_the_same_institution_cannot_import_or_export(client, campaign, operator_user):
    client.force_login(operator_user)
    assert client.get(reverse("campaigns:roster_import", args=[campaign.code])).status_code == 403
    assert client.get(reverse("campaigns:roster_export", args=[campaign.code, "csv"])).status_code == 403


def test_anonymous_is_sent_to_login(client, campaign):
    r = client.get(reverse("campaigns:roster_import", args=[campaign.code]))
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_job_of_another_campaign_is_404(office, campaign, institution):
    other = Campaign.objects.create(institution=institution, code="c2", name="c2", graduation_year=2025,
                                    capture_start=dt.date(2024, 3, 1), capture_end=dt.date(2024, 3, 1))
    upload(office, other, csv_bytes(clean_rows(1)), "a.csv")
    job = ImportJob.objects.get()
    assert office.get(reverse("campaigns:roster_job", args=[campaign.code, job.pk])).status_code == 404


def test_admin_student_changelist_links_to_the_import_page(client, campaign):
    admin = make_user("root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    page = client.get("/admin/campaigns/student/").content.decode()
    assert reverse("campaigns:roster_import", args=[campaign.code]) in page
    assert client.get("/admin/campaigns/importjob/").status_code == 200


# --- in a real browser ---------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_upload_errors_then_clean_import(browser, live_server, artifacts_dir, settings, tmp_path,
                                                 monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are plain sync code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from tucai.settings import PACKAGE_DIR

    if not any(str(d).rstrip("/") == str(PACKAGE_DIR / "static") for d in settings.STATICFILES_DIRS):
        settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, str(PACKAGE_DIR / "static")]
    inst = Institution.objects.create(code="hnpt", name="湖南理工职业技术学院")
    campaign = Campaign.objects.create(institution=inst, code="web-2024", name="2024届毕业生图像采集",
                                       graduation_year=2024, capture_start=dt.date(2023, 3, 3),
                                       capture_end=dt.date(2023, 3, 3))
    make_user("clerk", institution=inst, role="office")
    messy = tmp_path / "名单-有错.csv"
    messy.write_bytes(messy_gbk_csv())
    clean = tmp_path / "名单.xlsx"
    clean.write_bytes(xlsx_bytes(clean_rows(12)))

    page = browser.new_page(viewport={"width": 1280, "height": 1100}, locale="zh-CN")
    browser_login(page, live_server.url, "clerk", next_path=f"/c/{campaign.code}/roster/")
    page.wait_for_selector("#roster-upload")
    page.screenshot(path=str(artifacts_dir / "roster-upload.png"), full_page=True)

    page.set_input_files("#id_file", str(messy))
    page.click("#roster-upload button[type=submit]")
    page.wait_for_selector("#roster-job[data-status=invalid]")
    assert page.locator("table.row-errors tr").count() == 1 + 7
    assert "校验码错误" in page.inner_text("table.row-errors")
    assert page.locator("#confirm-import").count() == 0
    page.screenshot(path=str(artifacts_dir / "roster-errors.png"), full_page=True)
    assert Student.objects.count() == 0

    page.goto(f"{live_server.url}/c/{campaign.code}/roster/")
    page.set_input_files("#id_file", str(clean))
    page.click("#roster-upload button[type=submit]")
    page.wait_for_selector("#roster-job[data-status=valid]")
    assert page.inner_text("#n-created") == "12"
    page.screenshot(path=str(artifacts_dir / "roster-dry-run.png"), full_page=True)
    page.click("#confirm-import")
    page.wait_for_selector("#roster-job[data-status=done]")
    page.screenshot(path=str(artifacts_dir / "roster-done.png"), full_page=True)
    assert Student.objects.filter(campaign=campaign).count() == 12
    page.close()
    # Django keeps connections per asyncio context; the one this body opened while Playwright's loop
    # runs would stay open and block dropping the PostgreSQL test database.
    from django.db import connections

    connections.close_all()


def test_commit_task_run_twice_imports_once(office, campaign):
    from tucai.campaigns.tasks import roster_commit_task

    upload(office, campaign, csv_bytes(clean_rows(3)), "a.csv")
    job = ImportJob.objects.get()
    roster_commit_task.call(job.pk, None)
    assert roster_commit_task.call(job.pk, None) == "done"  # the repeat is refused quietly
    job.refresh_from_db()
    assert job.status == "done" and Student.objects.count() == 3
    assert AuditEntry.objects.filter(action="roster.import").count() == 1


def test_job_state_machine_refuses_illegal_moves(office, campaign):
    from tucai.campaigns.services.roster import import_job_transition
    from tucai.core.errors import TucaiError

    upload(office, campaign, messy_gbk_csv(), "a.csv")
    job = ImportJob.objects.get()
    assert job.status == "invalid"
    with pytest.raises(TucaiError) as exc:
        import_job_transition(job=job, to="committing")
    assert exc.value.code == "import_job.illegal_transition"
    r = office.post(reverse("campaigns:roster_job_commit", args=[campaign.code, job.pk]))
    assert r.status_code == 302 and Student.objects.count() == 0


def test_crash_during_validation_marks_the_job_failed(office, campaign, monkeypatch):
    from tucai.campaigns.services import roster

    def boom(**kw):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(roster, "roster_import", boom)
    upload(office, campaign, csv_bytes(clean_rows(1)), "a.csv")
    job = ImportJob.objects.get()
    assert job.status == "failed" and job.error["code"] == "import_job.crashed"
    page = office.get(reverse("campaigns:roster_job", args=[campaign.code, job.pk])).content.decode()
    assert "意外中止" in page and "hx-trigger" not in page


def test_uploaded_files_do_not_linger(office, campaign, private_dir):
    """Rosters are personal data: a file is kept only while its job can still be confirmed."""
    import datetime as dt_

    from django.utils import timezone

    upload(office, campaign, messy_gbk_csv(), "bad.csv")
    bad = ImportJob.objects.get(filename="bad.csv")
    assert bad.status == "invalid" and bad.stored_path == ""
    upload(office, campaign, csv_bytes(clean_rows(2)), "ok.csv")
    ok = ImportJob.objects.get(filename="ok.csv")
    assert ok.status == "valid" and (private_dir / ok.stored_path).exists()
    path = private_dir / ok.stored_path
    ImportJob.objects.filter(pk=ok.pk).update(updated_at=timezone.now() - dt_.timedelta(days=2))
    upload(office, campaign, csv_bytes(clean_rows(1)), "next.csv")  # the next upload sweeps stale jobs
    ok.refresh_from_db()
    assert ok.status == "cancelled" and ok.stored_path == "" and not path.exists()
    assert [p.name for p in private_dir.rglob("*") if p.is_file()] == [
        Path(ImportJob.objects.get(filename="next.csv").stored_path).name]


def test_row_errors_in_english(office, campaign):
    upload(office, campaign, messy_gbk_csv(), "a.csv")
    job = ImportJob.objects.get()
    page = office.get(reverse("campaigns:roster_job", args=[campaign.code, job.pk]),
                      HTTP_ACCEPT_LANGUAGE="en", HTTP_HX_REQUEST="true").content.decode()
    assert "wrong check character" in page and "校验码错误" not in page
