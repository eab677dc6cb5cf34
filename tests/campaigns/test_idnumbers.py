"""Identity-number rules: GB 11643-1999 check character, birth dates, permits, passports."""

import datetime as dt

import pytest

from tests.conftest import resident_id
from tucai.campaigns.idnumbers import (
    check_char,
    doc_type_from_label,
    doc_type_guess,
    gender_from_number,
    idnumber_normalise,
    idnumber_parse,
    idnumber_validate,
)
from tucai.core.errors import TucaiError

RID = "resident_id"


def code_of(doc_type, number, **kw):
    with pytest.raises(TucaiError) as exc:
        idnumber_validate(doc_type=doc_type, number=number, **kw)
    return exc.value.code


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_domain_vectors_valid(number):
    assert idnumber_validate(doc_type=RID, number=number) == number


def test_domain_vector_invalid_check_digit():
    assert code_of(RID, "130402198207290622") == "id.check_digit"


def test_check_char_matches_iso7064_examples():
    assert check_char("11010519491231002") == "X"
    assert check_char("44052418800101001") == "4"


def test_lowercase_x_and_fullwidth_and_spaces_are_normalised():
    assert idnumber_validate(doc_type=RID, number="11010519491231002x") == "11010519491231002X"
    assert idnumber_validate(doc_type=RID, number=" 110105 19491231 002x ") == "11010519491231002X"
    assert idnumber_validate(doc_type=RID, number="１１０１０５１９４９１２３１００２Ｘ") == "11010519491231002X"
    assert idnumber_normalise(440524188001010014) == "440524188001010014"


def test_gender_from_sequence_digit():
    female = idnumber_parse(doc_type=RID, number="11010519491231002X")
    male = idnumber_parse(doc_type=RID, number="440524188001010014")
    assert (female.gender, female.birth_date) == ("F", dt.date(1949, 12, 31))
    assert (male.gender, male.birth_date) == ("M", dt.date(1880, 1, 1))
    assert gender_from_number(doc_type=RID, number="440524188001010014") == "M"
    assert gender_from_number(doc_type="passport", number="E12345678") is None


@pytest.mark.parametrize("birth", ["19990229", "20010230", "20011301", "20010100"])
def test_birth_date_that_does_not_exist(birth):
    body = "430521" + birth + "123"
    assert code_of(RID, body + check_char(body)) == "id.birth_date"


def test_birth_date_in_the_future():
    future = dt.date.today() + dt.timedelta(days=30)
    number = resident_id("430521", future, 12)
    assert code_of(RID, number) == "id.birth_date"
    # ... but fine once that day has come
    assert idnumber_validate(doc_type=RID, number=number, today=future) == number


@pytest.mark.parametrize("number", ["4305212002010112", "43052120020101123X5", "43052120020101A23X", "", "   "])
def test_wrong_format(number):
    assert code_of(RID, number) in {"id.format", "id.required"}


def test_unknown_area_and_permit_area_refused_as_resident_id():
    assert code_of(RID, resident_id("990000", dt.date(2002, 1, 1), 11)) == "id.area"
    assert code_of(RID, resident_id("810000", dt.date(2002, 1, 1), 11)) == "id.area"


def test_hk_macao_taiwan_residence_permit():
    for area in ("810000", "820000", "830000"):
        number = resident_id(area, dt.date(2001, 5, 6), 21)
        assert idnumber_validate(doc_type="hmt_residence", number=number) == number
    assert code_of("hmt_residence", resident_id("430521", dt.date(2001, 5, 6), 21)) == "id.area"
    bad = resident_id("810000", dt.date(2001, 5, 6), 21)
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")
    assert code_of("hmt_residence", bad) == "id.check_digit"


def test_foreign_permanent_resident_card_2023():
    body = "931840" + "20000102" + "001"
    number = body + check_char(body)
    info = idnumber_parse(doc_type="foreign_pr", number=number)
    assert info.number == number and info.gender == "M" and info.birth_date == dt.date(2000, 1, 2)
    assert code_of("foreign_pr", resident_id("430521", dt.date(2000, 1, 2), 1)) == "id.format"


def test_travel_permits_and_passports_are_pattern_checked():
    assert idnumber_validate(doc_type="hm_travel", number="h12345678") == "H12345678"
    assert idnumber_validate(doc_type="hm_travel", number="M87654321") == "M87654321"
    assert code_of("hm_travel", "X12345678") == "id.format"
    assert code_of("hm_travel", "H1234567") == "id.format"
    assert idnumber_validate(doc_type="tw_travel", number="12345678") == "12345678"
    assert code_of("tw_travel", "1234567") == "id.format"
    assert idnumber_validate(doc_type="passport", number="e1234567 8") == "E12345678"
    assert code_of("passport", "E12") == "id.format"
    assert code_of("passport", "E123#5678") == "id.format"


def test_document_type_labels_and_guessing():
    assert doc_type_from_label(label="身份证") == "resident_id"
    assert doc_type_from_label(label="居民身份证") == "resident_id"
    assert doc_type_from_label(label="台胞证") == "tw_travel"
    assert doc_type_from_label(label="港澳居民来往内地通行证") == "hm_travel"
    assert doc_type_from_label(label="外国人永久居留身份证") == "foreign_pr"
    assert doc_type_from_label(label="Passport") == "passport"
    assert doc_type_from_label(label="", number="M12345678") == "hm_travel"
    assert doc_type_guess(number=resident_id("820000", dt.date(2001, 1, 1), 3)) == "hmt_residence"
    assert doc_type_guess(number="11010519491231002X") == "resident_id"
    with pytest.raises(TucaiError) as exc:
        doc_type_from_label(label="驾驶证")
    assert exc.value.code == "id.unknown_type"
    assert code_of("driving_licence", "123") == "id.unknown_type"


def test_error_messages_in_both_languages():
    with pytest.raises(TucaiError) as exc:
        idnumber_validate(doc_type=RID, number="130402198207290622")
    assert "校验码" in exc.value.message_zh and "check character" in exc.value.message_en
