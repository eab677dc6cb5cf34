"""The review's defects, each pinned: amount ceilings, overpayment of part-payers, double submits without a
receipt number (form token), reusing a voided payment's number, Unicode digits, local times in the export,
bad ids in URLs and forms, a monitor's view of a payment that spans classes, over-long text, the redirect
after an individual payment, where a void goes back to, list limits, the void's audit entry."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.management import CommandError
from django.test import Client
from django.urls import reverse

from tucai.accounts.models import Membership
from tucai.audit.models import AuditEntry
from tucai.campaigns.models import SchoolClass
from tucai.core.errors import TucaiError
from tucai.fees import selectors
from tucai.fees import views as fee_views
from tucai.fees.models import Payment, PaymentLine, PaymentState
from tucai.fees.services import payment_record, payment_void
from tests.conftest import make_user
from tests.fees.test_fees_command import run


@pytest.fixture
def other_class(campaign, department):
    return SchoolClass.objects.create(campaign=campaign, department=department, name="电商1212")


@pytest.fixture
def office(office_user):
    c = Client(raise_request_exception=False)
    c.force_login(office_user)
    return c


def error_code(response) -> str | None:
    m = re.search(r'id="fee-error" data-code="([^"]+)"', response.content.decode())
    return m.group(1) if m else None


def form_token(response) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', response.content.decode()).group(1)


# 1. amounts have a ceiling (per student and per payment), in the parser, the service, the page and the command

def test_amount_ceiling(campaign, school_class, make_student, office, monkeypatch):
    from tucai.fees.money import AMOUNT_MAX_FEN_EACH, yuan_to_fen

    assert yuan_to_fen("1000") == AMOUNT_MAX_FEN_EACH == 100_000
    for bad in ("1000.01", "999999999"):
        with pytest.raises(TucaiError) as exc:
            yuan_to_fen(bad)
        assert exc.value.code == "fees.amount_invalid"
    s = make_student()
    for kw in ({"amount_fen_each": AMOUNT_MAX_FEN_EACH + 1, "allow_extra": True},
               {"amount_fen_each": 99_999_999_900, "allow_extra": True}):
        with pytest.raises(TucaiError) as exc:
            payment_record(campaign=campaign, students=[s], method="cash", **kw)
        assert exc.value.code == "fees.amount_invalid"
    # the total of one payment too (ceiling lowered here so the test needs only two students)
    monkeypatch.setattr("tucai.fees.services.payments.PAYMENT_TOTAL_MAX_FEN", 3000)
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[s, make_student()], method="cash")
    assert exc.value.code == "fees.amount_invalid" and exc.value.details["total_fen"] == 4000
    r = office.post(reverse("fees:class_record", args=[campaign.code, school_class.pk]),
                    {"student": [s.pk], "method": "cash", "amount_yuan": "999999999"})
    assert r.status_code == 400 and error_code(r) == "fees.amount_invalid"
    with pytest.raises(CommandError, match="fees.amount_invalid"):
        run("record", "--campaign", campaign.code, "--student", s.student_no, "--method", "cash",
            "--amount-yuan", "999999999", "--allow-extra")
    assert not Payment.objects.exists()



def test_an_amount_cleared_before_sending_is_an_error_not_the_fee(campaign, school_class, make_student, office):
    # The form opens with the campaign's fee filled in; sent empty it was recorded at the fee without a word.
    s = make_student()
    page = office.get(reverse("fees:class", args=[campaign.code, school_class.pk])).content.decode()
    assert 'name="amount_yuan"' in page and 'value="20' in page
    r = office.post(reverse("fees:class_record", args=[campaign.code, school_class.pk]),
                    {"student": [s.pk], "method": "cash", "amount_yuan": ""})
    assert r.status_code == 400 and error_code(r) == "fees.amount_invalid"
    assert "请填写金额" in r.content.decode()
    assert not Payment.objects.exists()


# 2. no student is taken past the fee without allow_extra; a class collection charges each what they owe

def test_individual_overpayment_refused(campaign, make_student, office):
    s, t = make_student(), make_student()
    payment_record(campaign=campaign, students=[s], method="cash", amount_fen_each=1500)
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[s, t], method="cash", amount_fen_each=2000)
    assert exc.value.code == "fees.overpayment" and exc.value.details["student_nos"] == [s.student_no]
    assert exc.value.details["owed_fen"] == {s.student_no: 500}
    url = reverse("fees:student", args=[campaign.code])
    r = office.post(url, {"student_no": s.student_no, "method": "cash", "amount_yuan": "20"})
    assert r.status_code == 400 and error_code(r) == "fees.overpayment"
    assert selectors.student_paid_fen(student=s) == 1500
    office.post(url, {"student_no": s.student_no, "method": "cash", "amount_yuan": "5"})
    assert selectors.student_paid_fen(student=s) == 2000
    # explicitly extra money is still possible
    payment_record(campaign=campaign, students=[s], method="cash", amount_fen_each=300, allow_extra=True)
    assert selectors.student_paid_fen(student=s) == 2300


def test_class_collection_charges_part_payer_what_they_owe(campaign, school_class, make_student, office):
    part, fresh = make_student(), make_student()
    payment_record(campaign=campaign, students=[part], method="cash", amount_fen_each=1500)
    html = office.get(reverse("fees:class", args=[campaign.code, school_class.pk])).content.decode()
    assert f'data-owed-fen="500" value="{part.pk}" checked' in html   # preselected: still owes 5 元
    r = office.post(reverse("fees:class_record", args=[campaign.code, school_class.pk]),
                    {"student": [part.pk, fresh.pk], "method": "cash", "amount_yuan": "20",
                     "form_token": form_token(office.get(reverse("fees:class", args=[campaign.code, school_class.pk])))})
    assert r.status_code == 302
    p = Payment.objects.get(school_class=school_class)
    assert dict(p.lines.values_list("student_id", "amount_fen")) == {part.pk: 500, fresh.pk: 2000}
    assert p.total_fen == 2500
    assert selectors.student_paid_fen(student=part) == 2000


def test_command_class_collection_charges_what_each_owes(campaign, school_class, make_student):
    part, fresh = make_student(), make_student()
    payment_record(campaign=campaign, students=[part], method="cash", amount_fen_each=1500)
    out = run("record", "--campaign", campaign.code, "--class", school_class.name, "--method", "cash")
    assert "25.00" in out
    assert selectors.student_paid_fen(student=part) == 2000 and selectors.student_paid_fen(student=fresh) == 2000
    with pytest.raises(CommandError, match="fees.overpayment"):
        run("record", "--campaign", campaign.code, "--student", make_student().student_no, "--method", "cash",
            "--amount-yuan", "30")


# 3. a form token makes a double click with a blank receipt number record once

def test_double_submit_with_blank_reference_records_once(campaign, school_class, make_student, office):
    s1, s2 = make_student(), make_student()
    page_url = reverse("fees:class", args=[campaign.code, school_class.pk])
    first_render, second_render = form_token(office.get(page_url)), form_token(office.get(page_url))
    assert first_render != second_render   # one token per rendered form
    data = {"student": [s1.pk, s2.pk], "method": "cash", "amount_yuan": "10", "form_token": first_render}
    url = reverse("fees:class_record", args=[campaign.code, school_class.pk])
    r1, r2 = office.post(url, data), office.post(url, data)
    assert r1.status_code == r2.status_code == 302
    assert Payment.objects.count() == 1 and selectors.student_paid_fen(student=s1) == 1000
    assert "未重复记录" in office.get(page_url).content.decode()
    # a new form (new token) is a new payment: the second half of the fee
    office.post(url, data | {"form_token": second_render})
    assert Payment.objects.count() == 2 and selectors.student_paid_fen(student=s1) == 2000


def test_form_token_replay_rules(campaign, make_student):
    s, t = make_student(), make_student()
    p = payment_record(campaign=campaign, students=[s], method="cash", amount_fen_each=1000, form_token="tok-aaaaaaaa")
    with pytest.raises(TucaiError) as exc:   # the same form submitted again with other content (back button)
        payment_record(campaign=campaign, students=[t], method="cash", amount_fen_each=1000, form_token="tok-aaaaaaaa")
    assert exc.value.code == "fees.form_reused"
    payment_void(payment=p, reason="记错")
    again = payment_record(campaign=campaign, students=[s], method="cash", amount_fen_each=1000,
                           form_token="tok-aaaaaaaa")
    assert again.pk == p.pk and not again.created and again.state == PaymentState.VOIDED  # not recorded twice
    with pytest.raises(TucaiError) as exc:
        payment_record(campaign=campaign, students=[s], method="cash", form_token="<script>")
    assert exc.value.code == "fees.form_token_invalid"


# 4. a voided payment's reference can be used again (the database constraint agrees)

def test_reference_unique_only_among_recorded_payments(campaign, make_student):
    from django.db import IntegrityError, transaction

    a = make_student()
    p = payment_record(campaign=campaign, students=[a], method="wechat", reference="4200001", amount_fen_each=1000)
    payment_void(payment=p, reason="金额记错")
    q = payment_record(campaign=campaign, students=[a], method="wechat", reference="4200001")
    assert q.created and q.pk != p.pk
    with pytest.raises(IntegrityError), transaction.atomic():   # two recorded with one number: refused by the DB
        Payment.objects.create(campaign=campaign, method="cash", reference="4200001", total_fen=1)


# 5. amounts: NFKC, then ASCII digits only

@pytest.mark.parametrize(("text", "fen"), [("１２．５", 1250), ("￥２０元", 2000), ("20\u3000", 2000), ("𝟐𝟎", 2000)])
def test_full_width_amounts_accepted(text, fen):
    from tucai.fees.money import yuan_to_fen

    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["٢٠", "२०", "٣", "20.", ".5", "+20", "1e3"])
def test_other_scripts_digits_refused(text):
    from tucai.fees.money import yuan_to_fen

    with pytest.raises(TucaiError) as exc:
        yuan_to_fen(text)
    assert exc.value.code == "fees.amount_invalid"


# 6. the export shows local time, like the pages

def test_export_times_are_local(campaign, make_student, office, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    payment_record(campaign=campaign, students=[make_student()], method="cash",
                   received_at=dt.datetime(2023, 3, 3, 0, 30, tzinfo=dt.timezone.utc))
    text = office.get(reverse("fees:overview", args=[campaign.code]),
                      {"export": "csv", "sheet": "缴费记录"}).content.decode("utf-8-sig")
    assert "2023-03-03 08:30:00" in text.splitlines()[1]
    assert "2023-03-03 08:30" in office.get(reverse("fees:payments", args=[campaign.code])).content.decode()


# 7. bad ids: refused with a message or 404, never 500

@pytest.mark.parametrize("value", ["99999999999999999999999", "abc", "-1", "１"])
def test_bad_student_ids_refused(campaign, school_class, make_student, office, value):
    s = make_student()
    r = office.post(reverse("fees:class_record", args=[campaign.code, school_class.pk]),
                    {"student": [s.pk, value], "method": "cash", "amount_yuan": "20"})
    assert r.status_code == 400 and error_code(r) == "fees.student_invalid"
    assert not Payment.objects.exists()


def test_huge_ids_in_urls_are_404(campaign, office):
    # (Django's exact lookup already treats an out-of-range integer as no row; pinned next to the form check.)
    big = 10**25
    assert office.get(f"/fees/c/{campaign.code}/class/{big}/").status_code == 404
    assert office.post(f"/fees/payments/{big}/void/", {"reason": "x"}).status_code == 404


# 10. a monitor sees only their class's part of a payment that spans classes

def test_monitor_sees_only_own_lines_of_multi_class_payment(institution, campaign, school_class, other_class,
                                                           make_student):
    mine, theirs = make_student(), make_student(school_class=other_class)
    payment_record(campaign=campaign, students=[mine, theirs], method="wechat", payer_name="别班家长",
                   reference="WX-OTHER")
    user = make_user("mon")
    Membership.objects.create(user=user, institution=institution, role="monitor", school_class=school_class)
    c = Client()
    c.force_login(user)
    html = c.get(reverse("fees:payments", args=[campaign.code])).content.decode()
    assert "data-payment=" in html and 'data-partial="1"' in html
    assert "别班家长" not in html and "WX-OTHER" not in html and "40.00" not in html and "20.00" in html
    text = c.get(reverse("fees:overview", args=[campaign.code]),
                 {"export": "csv", "sheet": "缴费记录"}).content.decode("utf-8-sig")
    assert "别班家长" not in text and "WX-OTHER" not in text and "40.00" not in text
    assert text.splitlines()[1].split(",")[6:8] == ["1", "20.00"]
    # the office still sees the whole payment
    rows = list(selectors.payment_list(campaign=campaign))
    assert [(p.shown_count, p.shown_fen, p.partial) for p in rows] == [(2, 4000, False)]


# 11. over-long text is refused by the service, not cut or left to the database

def test_over_long_text_refused(campaign, make_student, office):
    s = make_student()
    for kw, code in (({"reference": "R" * 101}, "fees.reference_too_long"),
                     ({"payer_name": "P" * 101}, "fees.payer_name_too_long"),
                     ({"note": "N" * 1001}, "fees.note_too_long")):
        with pytest.raises(TucaiError) as exc:
            payment_record(campaign=campaign, students=[s], method="cash", **kw)
        assert exc.value.code == code
    r = office.post(reverse("fees:student", args=[campaign.code]),
                    {"student_no": s.student_no, "method": "cash", "amount_yuan": "20", "reference": "R" * 150})
    assert r.status_code == 400 and error_code(r) == "fees.reference_too_long"
    with pytest.raises(CommandError, match="fees.reference_too_long"):
        run("record", "--campaign", campaign.code, "--student", s.student_no, "--method", "cash",
            "--reference", "R" * 150)
    assert not Payment.objects.exists()
    p = payment_record(campaign=campaign, students=[s], method="cash", reference="R" * 100)
    assert p.reference == "R" * 100


# 12. the redirect after an individual payment encodes the 学号

def test_student_redirect_urlencodes_number(campaign, make_student, office):
    s = make_student(student_no="2021&x=1#y")
    r = office.post(reverse("fees:student", args=[campaign.code]),
                    {"student_no": s.student_no, "method": "cash", "amount_yuan": "20"})
    assert r.status_code == 302 and r["Location"].endswith("?no=2021%26x%3D1%23y")
    assert 'id="fee-student"' in office.get(r["Location"]).content.decode()


# 13. a void from a page re-rendered after an error goes back to the page, not to the POST-only URL

def test_void_next_after_error_is_the_class_page(campaign, school_class, make_student, office):
    a = make_student()
    p = payment_record(campaign=campaign, students=[a], method="cash", school_class=school_class)
    r = office.post(reverse("fees:class_record", args=[campaign.code, school_class.pk]),
                    {"student": [a.pk], "method": "cash", "amount_yuan": "20"})
    assert r.status_code == 400
    nxt = re.search(r'name="next" value="([^"]+)"', r.content.decode()).group(1)
    assert nxt == reverse("fees:class", args=[campaign.code, school_class.pk])
    r2 = office.post(reverse("fees:void", args=[p.pk]), {"reason": "x", "next": nxt})
    assert r2.status_code == 302 and office.get(r2["Location"]).status_code == 200


def test_void_next_on_student_page_keeps_the_number(campaign, make_student, office):
    s = make_student(student_no="2021 01")
    payment_record(campaign=campaign, students=[s], method="cash", amount_fen_each=1000)
    r = office.post(reverse("fees:student", args=[campaign.code]),
                    {"student_no": s.student_no, "method": "cash", "amount_yuan": "20"})
    assert r.status_code == 400
    nxt = re.search(r'name="next" value="([^"]+)"', r.content.decode()).group(1)
    assert nxt == reverse("fees:student", args=[campaign.code]) + "?no=2021+01"


# list limits say when rows were left out

def test_class_page_says_when_payments_were_left_out(campaign, school_class, make_student, office, monkeypatch):
    monkeypatch.setattr(fee_views, "CLASS_PAGE_PAYMENTS_LIMIT", 2)
    monkeypatch.setattr(fee_views, "PAYMENTS_PAGE_LIMIT", 2)
    s = make_student()
    for _ in range(2):
        payment_record(campaign=campaign, students=[s], method="cash", amount_fen_each=100)
    url = reverse("fees:class", args=[campaign.code, school_class.pk])
    assert 'id="payments-truncated"' not in office.get(url).content.decode()
    payment_record(campaign=campaign, students=[s], method="cash", amount_fen_each=100)
    for u in (url, reverse("fees:payments", args=[campaign.code])):
        html = office.get(u).content.decode()
        assert 'data-shown="2" data-total="3"' in html and html.count("data-payment=") == 2


# the void's audit entry records the money it takes out

def test_void_audit_records_total(campaign, make_student, office_user):
    p = payment_record(campaign=campaign, students=[make_student(), make_student()], method="cash")
    payment_void(payment=p, reason="假币", actor=office_user)
    entry = AuditEntry.objects.get(action="payment.void")
    assert entry.changes["total_fen"] == [4000, 0]
    assert PaymentLine.objects.filter(payment=p).count() == 2
