"""Desk tokens: the check-in desk's credential for the JSON API (``Authorization: Desk <token>``).

A token is ``DK1.`` + base64url(varints: token id, campaign id, room id, day ordinal) + ``.`` +
base64url(HMAC-SHA256(SECRET_KEY-derived key, payload)[:16]). The signature is checked without the
database (a forged or altered token costs the server microseconds); the row (not revoked, not
expired, the operator still active and still holding ``checkin.perform`` at the institution) is
checked on every check-in inside the same query that resolves the scanned code, so revoking a
token or removing the operator's role takes effect on the next scan.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tucai.accounts.selectors import require
from tucai.audit.services import audit_record
from tucai.capture.models import DeskToken
from tucai.capture.tokens import varint, varints_read
from tucai.core.errors import TucaiError

PREFIX = "DK1."
MAC_BYTES = 16
# A capture day's shift; a desk left open overnight has to be opened again.
LIFETIME = dt.timedelta(hours=18)


@dataclass(frozen=True)
class DeskClaims:
    token_id: int
    campaign_id: int
    room_id: int
    date: dt.date


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: bytes) -> bytes:
    return salted_hmac("tucai.desk.v1", payload, algorithm="sha256").digest()[:MAC_BYTES]


def desk_token_string(*, token: DeskToken) -> str:
    payload = (varint(token.pk) + varint(token.campaign_id) + varint(token.room_id)
               + varint(token.date.toordinal()))
    return PREFIX + _b64(payload) + "." + _b64(_mac(payload))


REUSE_MIN_LEFT = dt.timedelta(hours=2)  # a token this close to expiry is replaced, not reused


def desk_token_issue(*, user, campaign, room, date: dt.date, desk: str = "") -> tuple[DeskToken, str]:
    """Issue a token to a logged-in operator who may check students in at this institution."""
    if room.institution_id != campaign.institution_id:
        raise TucaiError("checkin.bad_room", "拍摄室不属于该院校", "The room does not belong to this institution")
    require(user=user, institution_id=campaign.institution_id, perm="checkin.perform")
    # Reloading the desk page keeps its token: no new row, audit entry or live token per page view.
    reusable = (DeskToken.objects.filter(user=user, campaign=campaign, room=room, date=date, desk=desk[:40],
                                         revoked_at__isnull=True, expires_at__gt=timezone.now() + REUSE_MIN_LEFT)
                .order_by("-issued_at").first())
    if reusable is not None:
        return reusable, desk_token_string(token=reusable)
    with transaction.atomic():
        token = DeskToken.objects.create(user=user, campaign=campaign, room=room, date=date, desk=desk[:40],
                                         expires_at=timezone.now() + LIFETIME)
        audit_record(actor=user, action="desk_token.issue", obj=token,
                     changes={"desk": [None, f"{room} {date} {desk[:40]}".strip()]}, campaign_id=campaign.pk)
    return token, desk_token_string(token=token)


def desk_token_revoke(*, token: DeskToken, actor) -> DeskToken:
    """Revoke a desk token (lost tablet, end of the day); its next scan is refused."""
    require(user=actor, institution_id=token.campaign.institution_id, perm="checkin.perform")
    with transaction.atomic():
        locked = DeskToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
            locked.save(update_fields=["revoked_at", "revoked_by"])
            audit_record(actor=actor, action="desk_token.revoke", obj=locked, changes={"revoked": [False, True]},
                         campaign_id=locked.campaign_id)
    return locked


def desk_token_parse(*, header: str | None) -> DeskClaims:
    """Verify the signature of ``Authorization: Desk <token>`` and unpack it (no database).

    Raises ``desk.token_missing`` or ``desk.token_invalid``; validity in the database is checked by
    the check-in itself (see ``checkin_perform_desk``)."""
    text = (header or "").strip()
    if not text.startswith("Desk "):
        raise TucaiError("desk.token_missing", "缺少签到台令牌，请重新打开签到台页面",
                         "No desk token; open the desk page again")
    invalid = TucaiError("desk.token_invalid", "签到台令牌无效，请重新打开签到台页面",
                         "Invalid desk token; open the desk page again")
    token = text[5:].strip()
    if not token.startswith(PREFIX) or token.count(".") != 2:
        raise invalid
    body, _, mac = token[len(PREFIX):].partition(".")
    try:
        payload, mac_bytes = _unb64(body), _unb64(mac)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not hmac.compare_digest(mac_bytes, _mac(payload)):
        raise invalid
    try:
        (token_id, campaign_id, room_id, ordinal), used = varints_read(payload, 4)
        day = dt.date.fromordinal(ordinal)
    except ValueError:
        raise invalid from None
    if used != len(payload):
        raise invalid
    return DeskClaims(token_id=token_id, campaign_id=campaign_id, room_id=room_id, date=day)
