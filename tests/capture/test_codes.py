"""Capture codes: signed tokens, forged/tampered/revoked/foreign refused with their reason codes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from tucai.audit.models import AuditEntry
from tucai.campaigns.models import Campaign
from tucai.capture.models import CaptureCode, ForeignCode
from tucai.capture.services import codes
from tucai.capture.tokens import varint
from tucai.core.errors import TucaiError


def test_token_roundtrip_and_case_insensitive(make_student):
    s = make_student()
    code = codes.capture_code_issue(student=s)
    assert code.token.startswith("TC1") and len(code.token) <= 40
    parsed = codes.code_token_parse(code.token.lower())
    assert (parsed.campaign_id, parsed.student_id, parsed.version) == (s.campaign_id, s.pk, 1)
    res = codes.code_resolve(campaign=s.campaign, raw_code=f"  {code.token}\n")
    assert res.student == s and res.reason == "" and res.kind == "tucai"


def test_tampered_and_forged_codes_refused(make_student):
    s = make_student()
    token = codes.capture_code_issue(student=s).token
    # Flip one character of the signed part: the MAC no longer matches.
    i = len(token) - 3
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
    assert codes.code_resolve(campaign=s.campaign, raw_code=tampered).reason == "code.forged"
    # A token made with another key (someone who knows the format but not the key).
    with override_settings(TUCAI_CODE_KEY="not-the-key"):
        forged = codes.code_token_make(campaign_id=s.campaign_id, student_id=s.pk, version=1)
    assert forged != token
    assert codes.code_resolve(campaign=s.campaign, raw_code=forged).reason == "code.forged"
    # Truncated and garbage bodies with our prefix.
    for bad in (token[:-4], "TC1", "TC1!!!!", token + "AA"):
        assert codes.code_resolve(campaign=s.campaign, raw_code=bad).reason == "code.forged", bad


def test_another_students_id_cannot_be_spliced_in(make_student):
    a, b = make_student(), make_student()
    token_a = codes.capture_code_issue(student=a).token
    codes.capture_code_issue(student=b)
    forged = codes.PREFIX + codes.base64.b32encode(
        varint(a.campaign_id) + varint(b.pk) + varint(1)
        + codes.base64.b32decode(token_a[3:] + "=" * (-len(token_a[3:]) % 8))[-codes.MAC_BYTES:]).decode().rstrip("=")
    assert codes.code_resolve(campaign=a.campaign, raw_code=forged).reason == "code.forged"


def test_reissue_revokes_old_code(make_student, office_user):
    s = make_student()
    old = codes.capture_code_issue(student=s)
    new = codes.capture_code_issue(student=s, actor=office_user)
    assert new.version == 2 and new.token != old.token
    assert codes.code_resolve(campaign=s.campaign, raw_code=old.token).reason == "code.revoked"
    assert codes.code_resolve(campaign=s.campaign, raw_code=new.token).student == s
    assert AuditEntry.objects.filter(action="capture_code.issue", entity_id=str(s.pk)).count() == 2


def test_revoke_needs_reason_and_is_audited(make_student, office_user):
    s = make_student()
    code = codes.capture_code_issue(student=s)
    with pytest.raises(TucaiError) as exc:
        codes.capture_code_revoke(code=code, actor=office_user, reason=" ")
    assert exc.value.code == "code.revoke_reason_required"
    codes.capture_code_revoke(code=code, actor=office_user, reason="手机丢失")
    assert codes.code_resolve(campaign=s.campaign, raw_code=code.token).reason == "code.revoked"
    entry = AuditEntry.objects.get(action="capture_code.revoke")
    assert entry.actor == office_user and entry.note == "手机丢失"
    with pytest.raises(TucaiError) as exc:
        codes.capture_code_revoke(code=code, actor=office_user, reason="again")
    assert exc.value.code == "code.already_revoked"
    # Ensure issues a fresh one since none is active.
    assert codes.capture_code_ensure(student=s).version == 2


def test_code_of_other_campaign_refused(make_student, institution):
    s = make_student()
    token = codes.capture_code_issue(student=s).token
    other = Campaign.objects.create(institution=institution, code="other-2025", name="2025届", graduation_year=2025,
                                    capture_start=dt.date(2024, 3, 1), capture_end=dt.date(2024, 3, 1))
    assert codes.code_resolve(campaign=other, raw_code=token).reason == "code.other_campaign"


def test_unknown_foreign_code_then_bound(make_student, operator_user):
    s = make_student()
    chsi = "CHSI:8f3a9c0d2b7e41d6a5f0c3e9b2d74a18|张*|4305**********1234"
    res = codes.code_resolve(campaign=s.campaign, raw_code=chsi)
    assert res.reason == "code.unknown" and res.kind == "foreign" and res.student is None
    bound = codes.foreign_code_bind(campaign=s.campaign, raw_token=chsi, student=s, actor=operator_user)
    assert bound.raw_token == chsi  # raw text kept for the hand-off to CHSI
    res = codes.code_resolve(campaign=s.campaign, raw_code=chsi)
    assert res.student == s and res.foreign == bound
    assert AuditEntry.objects.filter(action="foreign_code.bind", entity_id=str(s.pk), actor=operator_user).exists()
    # Binding the same text to someone else is refused; to the same student is a no-op.
    other = make_student()
    with pytest.raises(TucaiError) as exc:
        codes.foreign_code_bind(campaign=s.campaign, raw_token=chsi, student=other, actor=operator_user)
    assert exc.value.code == "code.already_bound"
    assert codes.foreign_code_bind(campaign=s.campaign, raw_token=chsi, student=s).pk == bound.pk
    assert ForeignCode.objects.count() == 1


def test_own_code_cannot_be_bound(make_student):
    s = make_student()
    with pytest.raises(TucaiError) as exc:
        codes.foreign_code_bind(campaign=s.campaign, raw_token="TC1AAAAAAAAAAAAAAAAAAAAAA", student=s)
    assert exc.value.code == "code.bind_own"


def fake_decoder(token: str):
    """A stand-in for the authorised unit's CHSI SDK: 'CHSI-<学号>' decodes, anything else does not."""
    return token[5:] if token.startswith("CHSI-") else None


@override_settings(TUCAI_CHSI_DECODER="tests.capture.test_codes.fake_decoder")
def test_pluggable_decoder_resolves_and_binds(make_student):
    s = make_student()
    res = codes.code_resolve(campaign=s.campaign, raw_code=f"CHSI-{s.student_no}")
    assert res.student == s and res.kind == "foreign"
    fc = ForeignCode.objects.get(student=s)
    assert fc.source == "decoder" and fc.raw_token == f"CHSI-{s.student_no}"
    assert codes.code_resolve(campaign=s.campaign, raw_code="CHSI-nobody").reason == "code.unknown"
    assert codes.code_resolve(campaign=s.campaign, raw_code="garbage").reason == "code.unknown"


def test_manual_lookup_is_logged(make_student, operator_user):
    s = make_student(name="王小明")
    make_student(name="李四")
    found = codes.student_manual_lookup(campaign=s.campaign, query="小明", actor=operator_user, desk="A")
    assert found == [s]
    assert codes.student_manual_lookup(campaign=s.campaign, query=s.student_no[:6], actor=operator_user)
    entries = AuditEntry.objects.filter(action="student.manual_search", actor=operator_user)
    assert entries.count() == 2
    assert any("q=小明" in e.note for e in entries)


def test_codes_for_class_are_issued_once(school_class, make_student):
    a, b = make_student(), make_student()
    first = codes.capture_codes_ensure_for_class(school_class=school_class)
    again = codes.capture_codes_ensure_for_class(school_class=school_class)
    assert [c.pk for c in first] == [c.pk for c in again]
    assert CaptureCode.objects.count() == 2
    assert AuditEntry.objects.filter(action="capture_code.issue").count() == 2      # one per first issue


def test_code_sheet_issues_a_whole_class_in_a_bounded_number_of_queries(school_class, make_student,
                                                                        django_assert_max_num_queries):
    students = [make_student() for _ in range(30)]
    reissued = codes.capture_code_issue(student=students[0])          # version 1
    codes.capture_code_revoke(code=reissued, reason="lost phone")      # needs version 2 on the sheet
    with django_assert_max_num_queries(12):
        issued = codes.capture_codes_ensure_for_class(school_class=school_class)
    assert [c.student_id for c in issued] == [s.pk for s in sorted(students, key=lambda s: s.student_no)]
    assert issued[[c.student_id for c in issued].index(students[0].pk)].version == 2
    for c in issued:      # every token verifies and names its student and version
        parsed = codes.code_token_parse(c.token)
        assert (parsed.student_id, parsed.version) == (c.student_id, c.version)


def broken_decoder(token: str):
    raise RuntimeError("vendor SDK not reachable")


@override_settings(TUCAI_CHSI_DECODER="tests.capture.test_codes.broken_decoder")
def test_failing_decoder_leaves_code_unknown(make_student):
    s = make_student()
    assert codes.code_resolve(campaign=s.campaign, raw_code="CHSI-whatever").reason == "code.unknown"
