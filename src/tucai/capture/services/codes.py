"""Capture codes (采集码): tucai's own signed codes, opaque foreign codes (CHSI) and manual look-up.

A tucai code is ``TC1`` + base32(payload ‖ mac) where payload = varints (campaign id, student id,
code version) and mac = HMAC-SHA256(TUCAI_CODE_KEY, "tucai.code.v1:" ‖ payload) truncated to 80 bits.
80 bits cannot be guessed online, the ids inside make the code self-describing (no table scan to
resolve it) and the version lets a re-issue revoke every earlier code of the student. Base32 keeps
the text in the QR alphanumeric set and survives a keyboard-wedge scanner with Caps Lock on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string

from tucai.audit.services import AuditBatch, audit_record
from tucai.capture.tokens import varint, varints_read
from tucai.campaigns.models import Student
from tucai.capture.models import CaptureCode, CodeKind, ForeignCode
from tucai.core.errors import TucaiError

logger = logging.getLogger(__name__)

PREFIX = "TC1"
MAC_BYTES = 10
_MAC_CONTEXT = b"tucai.code.v1:"


# --- the token -----------------------------------------------------------------------------

def _mac(payload: bytes) -> bytes:
    key = settings.TUCAI_CODE_KEY
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, _MAC_CONTEXT + payload, hashlib.sha256).digest()[:MAC_BYTES]


def code_token_make(*, campaign_id: int, student_id: int, version: int) -> str:
    payload = varint(campaign_id) + varint(student_id) + varint(version)
    return PREFIX + base64.b32encode(payload + _mac(payload)).decode().rstrip("=")


@dataclass(frozen=True)
class ParsedCode:
    campaign_id: int
    student_id: int
    version: int


def code_token_looks_ours(raw: str) -> bool:
    return raw.strip().upper().startswith(PREFIX)


def code_token_parse(raw: str) -> ParsedCode:
    """Verify and unpack a tucai token; raise ``code.forged`` when it has our prefix but does not verify."""
    text = raw.strip().upper()
    forged = TucaiError("code.forged", "采集码无效（签名不符，可能被伪造或篡改）",
                        "The capture code does not verify (forged or tampered)")
    if not text.startswith(PREFIX):
        raise TucaiError("code.unknown", "无法识别的采集码", "Unknown capture code")
    body = text[len(PREFIX):]
    try:
        data = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        raise forged from None
    if len(data) <= MAC_BYTES:
        raise forged
    payload, mac = data[:-MAC_BYTES], data[-MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(payload)):
        raise forged
    try:
        (campaign_id, student_id, version), used = varints_read(payload, 3)
    except ValueError:
        raise forged from None
    if used != len(payload):
        raise forged
    return ParsedCode(campaign_id, student_id, version)


# --- issuing and revoking ------------------------------------------------------------------

def capture_code_issue(*, student: Student, actor=None, actor_label: str = "", note: str = "") -> CaptureCode:
    """Issue a new code for ``student``; every earlier code of theirs is revoked (re-issue)."""
    with transaction.atomic():
        # Lock the student's row so two re-issues at once cannot both take the same version.
        Student.objects.select_for_update().filter(pk=student.pk).first()
        now = timezone.now()
        revoked = list(CaptureCode.objects.filter(student=student, revoked_at__isnull=True).values_list("version",
                                                                                                       flat=True))
        if revoked:
            CaptureCode.objects.filter(student=student, revoked_at__isnull=True).update(
                revoked_at=now, revoked_by=actor if getattr(actor, "is_authenticated", False) else None,
                revoke_reason="reissue")
        version = (CaptureCode.objects.filter(student=student).aggregate(m=Max("version"))["m"] or 0) + 1
        code = CaptureCode.objects.create(
            campaign_id=student.campaign_id, student=student, version=version,
            token=code_token_make(campaign_id=student.campaign_id, student_id=student.pk, version=version),
            issued_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(actor=actor, actor_label=actor_label, action="capture_code.issue", obj=student,
                     changes={"code_version": [revoked[-1] if revoked else None, version]}, note=note,
                     campaign_id=student.campaign_id)
    return code


def capture_code_ensure(*, student: Student, actor=None, actor_label: str = "") -> CaptureCode:
    """The student's active code, issuing the first one if they have none."""
    code = CaptureCode.objects.filter(student=student, revoked_at__isnull=True).order_by("-version").first()
    if code is not None:
        return code
    try:
        return capture_code_issue(student=student, actor=actor, actor_label=actor_label or "system",
                                  note="first issue")
    except IntegrityError:  # issued concurrently (two printouts at once): take that one
        return CaptureCode.objects.filter(student=student, revoked_at__isnull=True).order_by("-version").first()


def capture_codes_ensure_for_class(*, school_class, actor=None) -> list[CaptureCode]:
    """Codes for every active student of a class (the printable code sheet): the missing first codes
    are issued together, in one transaction with one batch of audit entries."""
    students = list(Student.objects.filter(school_class=school_class, status="active").order_by("student_no"))
    with transaction.atomic():
        ids = [s.pk for s in students]
        # Lock the students so a concurrent issue cannot take the same version.
        list(Student.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
        active = {c.student_id: c for c in CaptureCode.objects.filter(student_id__in=ids, revoked_at__isnull=True)}
        missing = [s for s in students if s.pk not in active]
        if missing:
            last = dict(CaptureCode.objects.filter(student__in=missing).values("student_id")
                        .annotate(m=Max("version")).values_list("student_id", "m"))
            user = actor if getattr(actor, "is_authenticated", False) else None
            new = CaptureCode.objects.bulk_create([
                CaptureCode(campaign_id=s.campaign_id, student=s, version=last.get(s.pk, 0) + 1, issued_by=user,
                            token=code_token_make(campaign_id=s.campaign_id, student_id=s.pk,
                                                  version=last.get(s.pk, 0) + 1))
                for s in missing])
            batch = AuditBatch(actor=actor, actor_label="" if user else "system", campaign_id=school_class.campaign_id,
                               institution_id=school_class.campaign.institution_id, note="first issue (code sheet)")
            for s, code in zip(missing, new):
                batch.add("capture_code.issue", "campaigns.student", s.pk, str(s),
                          {"code_version": [None, code.version]})
            batch.flush()
            active.update({c.student_id: c for c in new})
    return [active[s.pk] for s in students]


def capture_code_revoke(*, code: CaptureCode, actor=None, actor_label: str = "", reason: str) -> CaptureCode:
    """Revoke one code (lost phone, leaked screenshot); the student needs a re-issue to check in."""
    if not reason.strip():
        raise TucaiError("code.revoke_reason_required", "作废采集码需填写原因", "A reason is required to revoke a code")
    with transaction.atomic():
        locked = CaptureCode.objects.select_for_update().get(pk=code.pk)
        if locked.revoked_at is not None:
            raise TucaiError("code.already_revoked", "该采集码已作废", "This code is already revoked")
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.revoke_reason = reason.strip()[:200]
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit_record(actor=actor, actor_label=actor_label, action="capture_code.revoke", obj=locked.student,
                     changes={"code_version": [locked.version, None]}, note=locked.revoke_reason,
                     campaign_id=locked.campaign_id)
    return locked


# --- resolving a scan ----------------------------------------------------------------------

@dataclass
class CodeResolution:
    """What a scanned text means. ``student`` is None when refused; ``reason`` then says why."""

    raw: str
    kind: str
    student: Student | None = None
    reason: str = ""
    code: CaptureCode | None = None
    foreign: ForeignCode | None = None
    details: dict = field(default_factory=dict)


def foreign_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.strip().encode()).hexdigest()


def _student_qs():
    return Student.objects.select_related("school_class", "school_class__assignment__slot__room")


def code_resolve(*, campaign, raw_code: str) -> CodeResolution:
    """Resolve a scanned text to a student of ``campaign`` or to a refusal reason code:
    ``code.unknown``, ``code.forged``, ``code.revoked``, ``code.other_campaign``."""
    raw = (raw_code or "").strip()
    if not raw:
        return CodeResolution(raw=raw, kind="", reason="code.unknown")
    if code_token_looks_ours(raw):
        try:
            parsed = code_token_parse(raw)
        except TucaiError as exc:
            return CodeResolution(raw=raw, kind=CodeKind.TUCAI, reason=exc.code)
        if parsed.campaign_id != campaign.pk:
            return CodeResolution(raw=raw, kind=CodeKind.TUCAI, reason="code.other_campaign",
                                  details={"campaign_id": parsed.campaign_id})
        # One query: the code row with its student, class and slot (what the desk shows).
        # (student, version) is unique: no ORDER BY (the default ordering would join the student table).
        code = (CaptureCode.objects.select_related("student__school_class__assignment__slot__room")
                .filter(student_id=parsed.student_id, version=parsed.version, campaign_id=campaign.pk)
                .order_by()[:1])
        code = code[0] if code else None
        if code is None:
            # Signed with our key but never recorded (e.g. a restored database): not usable.
            return CodeResolution(raw=raw, kind=CodeKind.TUCAI, reason="code.unknown")
        if code.revoked_at is not None:
            return CodeResolution(raw=raw, kind=CodeKind.TUCAI, reason="code.revoked", code=code)
        return CodeResolution(raw=raw, kind=CodeKind.TUCAI, student=code.student, code=code)

    # Anything else is an opaque token (a CHSI 采集码 or a code we do not know).
    digest = foreign_token_hash(raw)
    bound = ForeignCode.objects.filter(campaign=campaign, token_hash=digest).first()
    if bound is not None:
        return CodeResolution(raw=raw, kind=CodeKind.FOREIGN, student=_student_qs().get(pk=bound.student_id),
                              foreign=bound)
    student = _decode_foreign(campaign=campaign, raw=raw)
    if student is not None:
        bound = foreign_code_bind(campaign=campaign, raw_token=raw, student=student, actor=None,
                                  actor_label="decoder", source="decoder")
        return CodeResolution(raw=raw, kind=CodeKind.FOREIGN, student=_student_qs().get(pk=student.pk),
                              foreign=bound)
    if ForeignCode.objects.filter(token_hash=digest).exclude(campaign=campaign).exists():
        return CodeResolution(raw=raw, kind=CodeKind.FOREIGN, reason="code.other_campaign")
    return CodeResolution(raw=raw, kind=CodeKind.FOREIGN, reason="code.unknown")


def _decode_foreign(*, campaign, raw: str) -> Student | None:
    """Ask the configured decoder (``settings.TUCAI_CHSI_DECODER``: callable(token) -> 学号 or None)."""
    path = getattr(settings, "TUCAI_CHSI_DECODER", None)
    if not path:
        return None
    decoder = import_string(path) if isinstance(path, str) else path
    try:
        identifier = decoder(raw)
    except Exception:  # noqa: BLE001 — a failing vendor SDK must not stop the desk; the code stays unknown
        logger.exception("TUCAI_CHSI_DECODER failed on a scanned code")
        return None
    if identifier is None:
        return None
    if isinstance(identifier, Student):
        return identifier if identifier.campaign_id == campaign.pk else None
    return Student.objects.filter(campaign=campaign, student_no=str(identifier).strip()).first()


def foreign_code_bind(*, campaign, raw_token: str, student: Student, actor=None, actor_label: str = "",
                      source: str = "operator") -> ForeignCode:
    """Bind an opaque scanned code to a student once; later scans of the same text resolve to them."""
    raw = (raw_token or "").strip()
    if not raw:
        raise TucaiError("code.empty", "没有可绑定的码", "There is no code to bind")
    if code_token_looks_ours(raw):
        raise TucaiError("code.bind_own", "图采自有采集码不能绑定，请重新发放",
                         "A tucai code cannot be bound; re-issue it instead")
    if student.campaign_id != campaign.pk:
        raise TucaiError("code.other_campaign", "该学生不属于本次采集活动", "The student is not in this campaign")
    digest = foreign_token_hash(raw)
    with transaction.atomic():
        existing = ForeignCode.objects.select_for_update().filter(campaign=campaign, token_hash=digest).first()
        if existing is not None:
            if existing.student_id == student.pk:
                return existing
            raise TucaiError("code.already_bound", f"该码已绑定到学生 {existing.student}",
                             "This code is already bound to another student",
                             details={"student_id": existing.student_id})
        try:
            with transaction.atomic():
                bound = ForeignCode.objects.create(
                    campaign=campaign, token_hash=digest, raw_token=raw, student=student, source=source,
                    bound_by=actor if getattr(actor, "is_authenticated", False) else None)
        except IntegrityError:  # bound at the same moment by another desk
            bound = ForeignCode.objects.get(campaign=campaign, token_hash=digest)
            if bound.student_id != student.pk:
                raise TucaiError("code.already_bound", "该码已绑定到其他学生",
                                 "This code is already bound to another student") from None
            return bound
        audit_record(actor=actor, actor_label=actor_label, action="foreign_code.bind", obj=student,
                     changes={"foreign_code": [None, digest[:16]]}, note=f"source={source}",
                     campaign_id=campaign.pk)
    return bound


def student_manual_lookup(*, campaign, query: str, actor=None, actor_label: str = "", desk: str = "",
                          limit: int = 20) -> list[Student]:
    """Manual search by 学号 or name (the fallback when no code works). Always logged: who looked up whom."""
    from tucai.capture.selectors import student_search

    results = student_search(campaign=campaign, query=query, limit=limit)
    audit_record(actor=actor, actor_label=actor_label, action="student.manual_search", obj=None,
                 entity_type="campaigns.student", entity_id="",
                 changes={"results": [None, [s.pk for s in results]]}, note=f"q={query.strip()[:60]} desk={desk}",
                 campaign_id=campaign.pk, institution_id=campaign.institution_id)
    return results
