"""Fee pages with Django's test Client: overview, class collection, individual payment, void, exports,
and who may see or do what (office and the capture unit's operators record, only the office voids; a monitor sees only their class)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tucai.accounts.models import Membership
from tucai.audit.models import AuditEntry
from tucai.campaigns.models import SchoolClass
from tucai.fees import selectors
from tucai.fees.models import Payment, PaymentState
from tucai.fees.services import payment_record
from tests.conftest import make_user


@pytest.fixture
def other_class(campaign, department):
    return SchoolClass.objects.create(campaign=campaign, department=department, name="电商1212")


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def office(office_user):
    return client_for(office_user)


@pytest.fixture
def monitor(institution, school_class):
    user = make_user("monitor")
    Membership.objects.create(user=user, institution=institution, role="monitor", school_class=school_class)
    return client_for(user)


def test_overview_counts_and_links(office, campaign, school_class, other_class, make_student):
    a, _b = make_student(), make_student()
    make_student(school_class=other_class)
    payment_record(campaign=campaign, students=[a], method="cash")
    r = office.get(reverse("fees:overview", args=[campaign.code]))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-paid="1" data-unpaid="2"' in html and 'data-received-fen="2000"' in html
    assert reverse("fees:class", args=[campaign.code, other_class.pk]) in html


def test_class_page_preselects_unpaid_and_records_collection(office, office_user, campaign, school_class,
                                                             make_student):
    a, b, c = make_student(), make_student(), make_student()
    payment_record(campaign=campaign, students=[a], method="cash")
    url = reverse("fees:class", args=[campaign.code, school_class.pk])
    html = office.get(url).content.decode()
    assert f'value="{a.pk}" checked' not in html
    assert f'value="{b.pk}" checked' in html and f'value="{c.pk}" checked' in html
    r = office.post(reverse("fees:class_record", args=[campaign.code, school_class.pk]), {
        "student": [b.pk, c.pk], "method": "wechat", "amount_yuan": "20", "reference": "WX-1", "payer_name": "班长"})
    assert r.status_code == 302 and r["Location"] == url
    p = Payment.objects.get(reference="WX-1")
    assert p.school_class == school_class and p.total_fen == 4000 and p.received_by == office_user
    assert selectors.students_paid(campaign=campaign, student_ids=[b.pk, c.pk]) == {b.pk: True, c.pk: True}
    # the same form submitted twice (double click): one payment
    r = office.post(reverse("fees:class_record", args=[campaign.code, school_class.pk]), {
        "student": [b.pk, c.pk], "method": "wechat", "amount_yuan": "20", "reference": "WX-1", "payer_name": "班长"})
    assert r.status_code == 302 and Payment.objects.count() == 2


def test_class_record_errors_rerender_with_message(office, campaign, school_class, make_student):
    a = make_student()
    payment_record(campaign=campaign, students=[a], method="cash")
    url = reverse("fees:class_record", args=[campaign.code, school_class.pk])
    r = office.post(url, {"student": [a.pk], "method": "cash", "amount_yuan": "20"})
    assert r.status_code == 400 and 'data-code="fees.already_paid"' in r.content.decode()
    assert a.student_no in r.content.decode()
    r = office.post(url, {"student": [a.pk], "method": "cash", "amount_yuan": "20.005", "allow_extra": "1"})
    assert r.status_code == 400 and 'data-code="fees.amount_invalid"' in r.content.decode()
    r = office.post(url, {"method": "cash", "amount_yuan": "20"})
    assert r.status_code == 400 and 'data-code="fees.no_students"' in r.content.decode()
    assert Payment.objects.count() == 1


def test_individual_payment_by_student_number(office, campaign, make_student):
    s = make_student()
    payment_record(campaign=campaign, students=[s], method="cash", amount_fen_each=500)
    url = reverse("fees:student", args=[campaign.code])
    r = office.get(url, {"no": s.student_no})
    html = r.content.decode()
    assert r.status_code == 200 and 'data-paid="0"' in html and 'value="15.00"' in html   # the rest is offered
    r = office.post(url, {"student_no": s.student_no, "method": "alipay", "amount_yuan": "15.00",
                          "reference": "ALI-9"})
    assert r.status_code == 302
    assert selectors.student_paid_status(student=s)
    assert 'data-paid="1"' in office.get(url, {"no": s.student_no}).content.decode()
    r = office.post(url, {"student_no": "nope", "method": "cash", "amount_yuan": "20"})
    assert r.status_code == 400 and 'data-code="fees.student_not_found"' in r.content.decode()


def test_void_through_page(office, campaign, make_student):
    s = make_student()
    p = payment_record(campaign=campaign, students=[s], method="cash")
    url = reverse("fees:void", args=[p.pk])
    r = office.post(url, {"reason": ""})
    p.refresh_from_db()
    assert r.status_code == 302 and p.state == PaymentState.RECORDED
    r = office.post(url, {"reason": "假币", "next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == reverse("fees:payments", args=[campaign.code])
    p.refresh_from_db()
    assert p.state == PaymentState.VOIDED and p.void_reason == "假币"
    assert AuditEntry.objects.filter(action="payment.void", entity_id=str(p.pk)).exists()
    assert office.get(url).status_code == 405   # POST only


def test_void_needs_csrf(office_user, campaign, make_student):
    p = payment_record(campaign=campaign, students=[make_student()], method="cash")
    c = Client(enforce_csrf_checks=True)
    c.force_login(office_user)
    assert c.post(reverse("fees:void", args=[p.pk]), {"reason": "x"}).status_code == 403
    p.refresh_from_db()
    assert p.state == PaymentState.RECORDED


def test_exports(office, campaign, school_class, make_student):
    s = make_student(student_no="=HYPERLINK(1)")
    payment_record(campaign=campaign, students=[s], method="cash")
    url = reverse("fees:overview", args=[campaign.code])
    r = office.get(url, {"export": "csv", "sheet": "学生明细"})
    text = r.content.decode("utf-8-sig")
    assert r.status_code == 200 and "学号,姓名,班级" in text and "'=HYPERLINK(1)" in text and "已缴清" in text
    r = office.get(url, {"export": "xlsx"})
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["班级汇总", "学生明细", "缴费记录"]
    rows = list(wb["班级汇总"].iter_rows(values_only=True))
    assert rows[1][1] == school_class.name and rows[1][3] == 1 and rows[1][6] == "20.00"
    assert office.get(url, {"export": "csv", "sheet": "nope"}).status_code == 404


def test_monitor_sees_only_own_class(monitor, campaign, school_class, other_class, make_student):
    mine, theirs = make_student(), make_student(school_class=other_class)
    payment_record(campaign=campaign, students=[theirs], method="cash")
    r = monitor.get(reverse("fees:overview", args=[campaign.code]))
    html = r.content.decode()
    assert r.status_code == 200 and 'id="class-scope"' in html
    assert f'data-class="{school_class.pk}"' in html and f'data-class="{other_class.pk}"' not in html
    r = monitor.get(reverse("fees:class", args=[campaign.code, school_class.pk]))
    html = r.content.decode()
    assert r.status_code == 200 and mine.student_no in html and 'id="class-collection"' not in html
    assert monitor.get(reverse("fees:class", args=[campaign.code, other_class.pk])).status_code == 403
    assert theirs.student_no not in monitor.get(reverse("fees:overview", args=[campaign.code]),
                                                {"export": "csv"}).content.decode()
    assert monitor.post(reverse("fees:class_record", args=[campaign.code, school_class.pk]),
                        {"student": [mine.pk], "method": "cash", "amount_yuan": "20"}).status_code == 403
    assert monitor.get(reverse("fees:student", args=[campaign.code]), {"no": mine.student_no}).status_code == 403
    r = monitor.get(reverse("fees:payments", args=[campaign.code]))
    assert r.status_code == 200 and f'data-payment="' not in r.content.decode()  # the other class's payment hidden
    assert not Payment.objects.filter(lines__student=mine).exists()


def test_operator_records_on_site_but_cannot_void(operator_user, campaign, school_class, make_student):
    """The capture unit's staff take the class money on site (the notice: 班长…统一以班为单位交新华社相关工作人员)
    and make-up students pay them; voiding is left to the office."""
    s = make_student()
    p = payment_record(campaign=campaign, students=[make_student()], method="cash")
    c = client_for(operator_user)
    assert c.get(reverse("fees:overview", args=[campaign.code])).status_code == 200
    r = c.post(reverse("fees:class_record", args=[campaign.code, school_class.pk]),
               {"student": [s.pk], "method": "cash", "amount_yuan": "20"})
    assert r.status_code in (200, 302) and selectors.student_paid_status(student=s)
    assert f'action="{reverse("fees:void", args=[p.pk])}"' not in c.get(
        reverse("fees:payments", args=[campaign.code])).content.decode()
    assert c.post(reverse("fees:void", args=[p.pk]), {"reason": "x"}).status_code == 403
    p.refresh_from_db()
    assert p.voided_at is None


def test_other_institution_office_is_refused(campaign, school_class, make_student):
    from tucai.campaigns.models import Institution

    elsewhere = Institution.objects.create(code="other", name="别的学院")
    c = client_for(make_user("office2", institution=elsewhere, role="office"))
    assert c.get(reverse("fees:overview", args=[campaign.code])).status_code == 403
    assert c.get(reverse("fees:class", args=[campaign.code, school_class.pk])).status_code == 403


def test_refusal_shown_in_the_active_language(office, campaign, school_class, make_student):
    a = make_student()
    payment_record(campaign=campaign, students=[a], method="cash")
    url = reverse("fees:class_record", args=[campaign.code, school_class.pk])
    post = {"student": [a.pk], "method": "cash", "amount_yuan": "20"}
    assert "Already paid in full" in office.post(url, post, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "以下学生已缴清" in office.post(url, post, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_admin_lists_payments_read_only(office_user, campaign, make_student):
    from tucai.campaigns.models import Institution
    from tucai.fees.models import PaymentLine

    office_user.is_staff = True
    office_user.save()
    p = payment_record(campaign=campaign, students=[make_student()], method="cash", reference="ADM-1")
    c = client_for(office_user)
    body = c.get("/admin/fees/payment/").content.decode()
    assert "ADM-1" in body
    page = c.get(f"/admin/fees/payment/{p.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()   # view only
    assert c.get("/admin/fees/payment/add/").status_code == 403
    assert c.post(f"/admin/fees/payment/{p.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Payment.objects.filter(pk=p.pk).exists() and PaymentLine.objects.filter(payment=p).count() == 1
    # another institution's office staff do not see it
    elsewhere = Institution.objects.create(code="other", name="别的学院")
    stranger = make_user("office2", institution=elsewhere, role="office", is_staff=True)
    assert "ADM-1" not in client_for(stranger).get("/admin/fees/payment/").content.decode()


def test_class_page_queries_do_not_grow_with_payments(office, campaign, school_class, make_student):
    students = [make_student() for _ in range(3)]
    url = reverse("fees:class", args=[campaign.code, school_class.pk])
    payment_record(campaign=campaign, students=students[:1], method="cash")
    with CaptureQueriesContext(connection) as one:
        office.get(url)
    for s in students[1:]:
        payment_record(campaign=campaign, students=[s], method="cash")
    with CaptureQueriesContext(connection) as three:
        office.get(url)
    assert len(three.captured_queries) == len(one.captured_queries)
