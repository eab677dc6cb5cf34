"""Progress per class and room, the make-up list, exports (formula injection), the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from tucai.core.spreadsheets import cell_neutralise as safe_cell
from tucai.stations.progress import progress_export_csv, progress_export_xlsx, progress_summary
from tucai.stations.services import shot_accept, shot_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(campaign, department, school_class, make_student, room, station, make_ticket, make_jpeg, engine):
    """Class A (room 101): 4 students — accepted, photographed (retake), checked in only, absent —
    plus an inactive one. Class B (no room assigned): 1 student, absent."""
    from tucai.campaigns.models import SchoolClass, SlotAssignment, TimeSlot

    slot = TimeSlot.objects.create(campaign=campaign, room=room, date=dt.date(2023, 3, 3), start=dt.time(8),
                                   end=dt.time(9))
    SlotAssignment.objects.create(slot=slot, school_class=school_class)
    other = SchoolClass.objects.create(campaign=campaign, department=department, name="=HYPERLINK(\"x\")")
    a = [make_student() for _ in range(4)]
    make_student(status="inactive")
    b = make_student(school_class=other, name="+cmd")
    t0 = make_ticket(state="called", student=a[0])
    s0 = shot_ingest(station=station, data=make_jpeg(1), filename="a.jpg")
    shot_accept(shot=s0)
    t0.refresh_from_db()
    make_ticket(state="called", student=a[1])
    engine.verdict = "retake"
    shot_ingest(station=station, data=make_jpeg(2), filename="b.jpg")
    make_ticket(state="waiting", student=a[2])
    return {"a": a, "b": b, "room": room, "class": school_class, "other": other}


def test_counts_per_class_room_and_total(scene):
    data = progress_summary(campaign=scene["class"].campaign)
    by_class = {r.label: (r.expected, r.checked_in, r.photographed, r.accepted) for r in data["classes"]}
    assert by_class == {scene["class"].name: (4, 3, 2, 1), scene["other"].name: (1, 0, 0, 0)}
    by_room = {r.label: (r.expected, r.checked_in, r.photographed, r.accepted) for r in data["rooms"]}
    assert by_room == {str(scene["room"]): (4, 3, 2, 1), "未安排": (1, 0, 0, 0)}
    t = data["total"]
    assert (t.expected, t.checked_in, t.photographed, t.accepted) == (5, 3, 2, 1)
    status = {a["student_no"]: a["status"] for a in data["absentees"]}
    assert status == {scene["a"][1].student_no: "photographed_not_accepted",
                      scene["a"][2].student_no: "checked_in_not_photographed",
                      scene["a"][3].student_no: "absent", scene["b"].student_no: "absent"}


def test_csv_and_xlsx_neutralise_formulas(scene):
    campaign = scene["class"].campaign
    raw = progress_export_csv(campaign=campaign, sheet="补拍名单")
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:2] == ["学号", "姓名"]
    b_row = next(r for r in rows if r[0] == scene["b"].student_no)
    assert b_row[1] == "'+cmd" and b_row[2] == "'=HYPERLINK(\"x\")"
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(progress_export_xlsx(campaign=campaign)))
    assert wb.sheetnames == ["按班级", "按拍摄室", "补拍名单"]
    cells = [c.value for row in wb["补拍名单"].iter_rows() for c in row]
    assert "'+cmd" in cells and "+cmd" not in cells
    assert not any(isinstance(v, str) and v[:1] in "=+-@" for v in cells)


@pytest.mark.parametrize("v,out", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("a=b", "a=b"),
                                   (5, 5), ("", "")])
def test_safe_cell(v, out):
    assert safe_cell(v) == out


def test_progress_command_json(scene, capsys):
    call_command("progress", "--campaign", scene["class"].campaign.code, "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["total"]["accepted"] == 1 and data["total"]["expected"] == 5
    assert len(data["absentees"]) == 4


def test_progress_page_and_exports(client, office_user, scene):
    client.force_login(office_user)
    code = scene["class"].campaign.code
    url = reverse("stations:progress", args=[code])
    html = client.get(url).content.decode()
    assert 'data-accepted="1"' in html and scene["b"].student_no in html
    r = client.get(url, {"export": "xlsx"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    r = client.get(url, {"export": "csv", "sheet": "按班级"})
    assert r.status_code == 200 and "应拍" in r.content.decode("utf-8-sig")


def test_unscheduled_class_counts_under_the_room_of_check_in(campaign, school_class, make_student, room,
                                                             make_ticket):
    checked = make_student()
    make_student()
    make_ticket(state="waiting", student=checked)
    data = progress_summary(campaign=campaign)
    by_room = {r.label: (r.expected, r.checked_in) for r in data["rooms"]}
    assert by_room == {str(room): (1, 1), "未安排": (1, 0)}


def test_monitor_sees_only_their_class(client, scene):
    """A class monitor (班长) follows their own class and its make-up list — not other classes' names,
    not the rooms' stations; a monitor of no class in this campaign and a student are refused."""
    from tests.conftest import make_user
    from tucai.accounts.models import Membership

    campaign = scene["class"].campaign
    monitor = make_user("monitor-a")
    Membership.objects.create(user=monitor, institution=campaign.institution, role="monitor",
                              school_class=scene["class"])
    client.force_login(monitor)
    url = reverse("stations:progress", args=[campaign.code])
    html = client.get(url).content.decode()
    assert 'id="class-scope"' in html and 'data-expected="4"' in html
    assert scene["a"][3].student_no in html and scene["b"].student_no not in html
    assert reverse("stations:unmatched", args=[campaign.code]) not in html
    rows = list(csv.reader(io.StringIO(client.get(url, {"export": "csv"}).content.decode("utf-8-sig"))))
    assert {r[0] for r in rows[1:]} == {s.student_no for s in scene["a"][1:]}
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(client.get(url, {"export": "xlsx"}).content))
    assert [r[0].value for r in wb["按班级"].iter_rows(min_row=2)] == [scene["class"].name, "合计"]
    assert "本班采集进度" in client.get(reverse("campaigns:detail", args=[campaign.code])).content.decode()

    loose = make_user("monitor-none", institution=campaign.institution, role="monitor")
    client.force_login(loose)
    assert client.get(url).status_code == 403
    student = make_user("student-x", institution=campaign.institution, role="student")
    client.force_login(student)
    assert client.get(url).status_code == 403


def test_export_links_in_english_keep_their_sheet_keys(client, office_user, scene):
    from urllib.parse import quote

    client.force_login(office_user)
    url = reverse("stations:progress", args=[scene["class"].campaign.code])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'sheet={quote("补拍名单")}">Make-up shoot list CSV</a>' in html
    assert client.get(url, {"export": "csv", "sheet": "补拍名单"}).status_code == 200
