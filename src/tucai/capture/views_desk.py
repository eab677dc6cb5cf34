"""The check-in desk: page, JSON check-in endpoint, camera-frame decoding, manual search and binding."""

from __future__ import annotations

import json
import time

from django.contrib.auth.decorators import login_required
from django.db.models.signals import post_delete, post_save
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from tucai.accounts.selectors import PERMISSIONS, user_can, user_roles, user_sees_full_id
from tucai.campaigns.models import Campaign, Room, Student
from tucai.capture.services import codes as code_services
from tucai.capture.models import DeskToken
from tucai.capture.services.checkin import (CheckinOutcome, DeskRefused, checkin_perform, checkin_perform_desk,
                                            student_paid_status)
from tucai.capture.services.desk import desk_token_issue, desk_token_parse, desk_token_revoke
from tucai.capture.views_queue import parse_day
from tucai.core.errors import TucaiError


def _desk_scope(request, campaign_id, room_id) -> tuple[Campaign, Room]:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    room = get_object_or_404(Room, pk=room_id, institution_id=campaign.institution_id)
    if not user_can(user=request.user, institution_id=campaign.institution_id, perm="checkin.perform"):
        raise PermissionDenied
    return campaign, room


@login_required
@require_GET
def desk_index(request, code: str):
    """Pick a room and a day for this desk (and open the room's display)."""
    campaign = get_object_or_404(Campaign, code=code)
    if not user_can(user=request.user, institution_id=campaign.institution_id, perm="checkin.perform"):
        raise PermissionDenied
    rooms = Room.objects.filter(institution_id=campaign.institution_id)
    today = timezone.localdate()
    days = sorted({*campaign.slots.values_list("date", flat=True), today})
    return render(request, "capture/desk_index.html", {"campaign": campaign, "rooms": rooms, "days": days,
                                                        "today": today})


@login_required
@require_GET
def desk_page(request, campaign_id: int, room_id: int, day: str):
    campaign, room = _desk_scope(request, campaign_id, room_id)
    day = parse_day(day)
    desk = request.GET.get("desk", "")[:40]
    # Opening the page changes nothing: its script asks for the desk token by POST (desk_token_view).
    return render(request, "capture/desk.html", {"campaign": campaign, "room": room, "day": day, "desk": desk})


@login_required
@require_POST
def desk_token_view(request, campaign_id: int, room_id: int, day: str):
    """The desk page's token for the desk-token API (no session or CSRF work per scan): bound to this
    campaign, room, day and desk name, ending with the shift or when revoked. Issued by POST (CSRF-
    checked), so no link or prefetch can make an operator's browser issue one; a reload reuses it."""
    campaign, room = _desk_scope(request, campaign_id, room_id)
    try:
        token, text = desk_token_issue(user=request.user, campaign=campaign, room=room, date=parse_day(day),
                                       desk=request.POST.get("desk", "")[:40])
    except TucaiError as exc:
        return JsonResponse({"ok": False, **exc.as_dict(), "message": exc.message}, status=403)
    return JsonResponse({"ok": True, "token": text, "id": token.pk, "desk": token.desk,
                         "revoke": reverse("capture:desk_token_revoke", args=[token.pk])})


@login_required
@require_POST
def desk_token_revoke_view(request, token_id: int):
    """End a desk's token (lost tablet, end of shift): its next scan is refused."""
    token = get_object_or_404(DeskToken.objects.select_related("campaign"), pk=token_id)
    try:
        desk_token_revoke(token=token, actor=request.user)
    except TucaiError as exc:
        return JsonResponse({"ok": False, **exc.as_dict(), "message": exc.message}, status=403)
    return JsonResponse({"ok": True, "revoked": True})


def outcome_json(outcome: CheckinOutcome, *, full_id: bool) -> dict:
    s, t = outcome.student, outcome.ticket
    data = {
        "result": outcome.result, "ok": outcome.ok, "reason": outcome.reason, "message": outcome.message,
        "replayed": outcome.replayed, "warnings": outcome.warnings,
        "scan_id": outcome.scan.pk if outcome.scan else None,
        "number": t.number if t else None, "ticket_id": t.pk if t else None,
        "ticket_room": str(t.room) if t else None,
        "student": None,
    }
    if s is not None:
        paid = student_paid_status(s)
        slot = None
        assignment = getattr(s.school_class, "assignment", None) if s.school_class_id else None
        if assignment is not None:
            sl = assignment.slot
            slot = {"date": sl.date.isoformat(), "start": sl.start.strftime("%H:%M"), "end": sl.end.strftime("%H:%M"),
                    "room": str(sl.room)}
        data["student"] = {
            "id": s.pk, "name": s.name, "student_no": s.student_no, "class": str(s.school_class),
            "doc_number": s.doc_number if full_id else s.masked_doc_number,
            "paid": paid, "slot": slot,
        }
    return data


@login_required
@require_POST
def api_checkin(request):
    """POST JSON {campaign, room, date, code | student, nonce, desk} → the outcome as JSON.

    200 for issued/repeat, 409 for a refused scan (with ``reason``), 400 for bad input."""
    try:
        body = json.loads(request.body or b"{}") if request.content_type == "application/json" else request.POST
        campaign, room = _scope_cached(_int(body.get("campaign")) or 0, _int(body.get("room")) or 0)
        # The desk's busiest endpoint: read the user's roles once for both questions.
        perms = _perms(request.user, campaign.institution_id)
        if "checkin.perform" not in perms:
            raise PermissionDenied
        day = parse_day(str(body.get("date", "")))
        student = None
        if body.get("student"):
            student = get_object_or_404(Student, pk=_int(body.get("student")), campaign=campaign)
        raw = None if student is not None else str(body.get("code", ""))
        outcome = checkin_perform(campaign=campaign, room=room, date=day, raw_code=raw, student=student,
                                  nonce=str(body.get("nonce") or "") or None, actor=request.user,
                                  desk=str(body.get("desk") or ""))
    except TucaiError as exc:
        return JsonResponse({"ok": False, "result": "error", **exc.as_dict(), "message": exc.message}, status=400)
    except (ValueError, AttributeError, RecursionError, Http404):
        return JsonResponse({"ok": False, "result": "error", "code": "checkin.bad_request",
                             "message": "请求格式不正确"}, status=400)
    data = outcome_json(outcome, full_id="student.view_full_id" in perms)
    if request.GET.get("html"):
        data["html"] = render_to_string("capture/_desk_result.html", {"o": outcome, "d": data, "room": room,
                                                                      "campaign": campaign, "day": day},
                                        request=request)
    return JsonResponse(data, status=200 if outcome.ok else 409)


@csrf_exempt  # no cookie authenticates this endpoint: the desk token travels in the Authorization header
@require_POST
def api_desk_checkin(request):
    """The desk's check-in with ``Authorization: Desk <token>``: POST JSON {code | student, nonce}.

    Campaign, room, day and the desk's name come from the token, not the body. Answers like
    :func:`api_checkin`; 401 with ``desk.token_*`` when the token is missing, forged, revoked,
    expired or its operator lost the right to check in."""
    try:
        claims = desk_token_parse(header=request.META.get("HTTP_AUTHORIZATION"))  # not .headers: builds them all
    except TucaiError as exc:
        return JsonResponse({"ok": False, "result": "error", **exc.as_dict(), "message": exc.message}, status=401)
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError("not an object")
        student_id = _int(body.get("student")) if body.get("student") else None
        if body.get("student") and student_id is None:
            raise ValueError("bad student id")
        done = checkin_perform_desk(claims=claims, raw_code=None if student_id else str(body.get("code", "")),
                                    student_id=student_id, nonce=str(body.get("nonce") or "") or None)
    except DeskRefused as exc:
        return JsonResponse({"ok": False, "result": "error", **exc.as_dict(), "message": exc.message}, status=401)
    except TucaiError as exc:
        return JsonResponse({"ok": False, "result": "error", **exc.as_dict(), "message": exc.message}, status=400)
    except (ValueError, AttributeError, RecursionError):
        return JsonResponse({"ok": False, "result": "error", "code": "checkin.bad_request",
                             "message": "请求格式不正确"}, status=400)
    outcome = done.outcome
    data = outcome_json(outcome, full_id=done.full_id)
    if request.GET.get("html"):
        # Rendered without the request: the fragment needs no user or CSRF context (and reading
        # them would load the session this endpoint does not use).
        data["html"] = render_to_string("capture/_desk_result.html", {"o": outcome, "d": data, "room": done.room,
                                                                      "day": claims.date})
    return JsonResponse(data, status=200 if outcome.ok else 409)


@login_required
@require_POST
def api_decode(request):
    """Decode a QR code in an uploaded camera frame (browsers without BarcodeDetector)."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    upload = request.FILES.get("frame")
    if upload is None or upload.size > 5 * 1024 * 1024:
        return JsonResponse({"ok": False, "code": "decode.bad_frame", "message": "没有图像或图像过大"}, status=400)
    try:
        with Image.open(upload) as img:
            img.thumbnail((1600, 1600))
            results = zxingcpp.read_barcodes(img.convert("L"))
    except (UnidentifiedImageError, OSError):
        return JsonResponse({"ok": False, "code": "decode.bad_frame", "message": "无法读取图像"}, status=400)
    texts = [r.text for r in results if r.text]
    return JsonResponse({"ok": bool(texts), "text": texts[0] if texts else None, "all": texts})


@login_required
@require_GET
def desk_search(request, campaign_id: int, room_id: int, day: str):
    """Manual search by 学号/姓名 (logged) → a list to check in or to bind an unknown code to."""
    campaign, room = _desk_scope(request, campaign_id, room_id)
    q = request.GET.get("q", "").strip()
    students = code_services.student_manual_lookup(campaign=campaign, query=q, actor=request.user,
                                                   desk=request.GET.get("desk", "")) if q else []
    full_id = user_sees_full_id(user=request.user, institution_id=campaign.institution_id)
    return render(request, "capture/_desk_search.html", {
        "students": students, "q": q, "raw": request.GET.get("raw", ""), "full_id": full_id,
        "campaign": campaign, "room": room, "day": parse_day(day)})


@login_required
@require_POST
def desk_bind(request, campaign_id: int, room_id: int, day: str):
    """Bind an unknown scanned code to the chosen student, then check them in with that code."""
    campaign, room = _desk_scope(request, campaign_id, room_id)
    student = get_object_or_404(Student, pk=_int(request.POST.get("student")) or 0, campaign=campaign)
    raw = request.POST.get("raw", "")
    try:
        code_services.foreign_code_bind(campaign=campaign, raw_token=raw, student=student, actor=request.user)
    except TucaiError as exc:
        return JsonResponse({"ok": False, "result": "error", **exc.as_dict(), "message": exc.message}, status=400)
    return JsonResponse({"ok": True, "bound": True, "student": student.pk})


_SCOPE_CACHE: dict[tuple[int, int], tuple[float, Campaign, Room]] = {}
_SCOPE_TTL = 30.0


def _scope_cached(campaign_id: int, room_id: int) -> tuple[Campaign, Room]:
    """Campaign and room for the check-in endpoint, kept 30 s per process: they do not change during
    a capture day and the desk asks for them on every scan (read-only use)."""
    key = (campaign_id, room_id)
    hit = _SCOPE_CACHE.get(key)
    if hit is not None and time.monotonic() - hit[0] < _SCOPE_TTL:
        return hit[1], hit[2]
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    room = get_object_or_404(Room, pk=room_id, institution_id=campaign.institution_id)
    if len(_SCOPE_CACHE) > 1000:
        _SCOPE_CACHE.clear()
    _SCOPE_CACHE[key] = (time.monotonic(), campaign, room)
    return campaign, room


def _scope_cache_clear(**kwargs) -> None:
    _SCOPE_CACHE.clear()


# Any edit of a campaign or room (admin, tests) drops the cache at once in this process.
for _model in (Campaign, Room):
    post_save.connect(_scope_cache_clear, sender=_model, dispatch_uid=f"capture_scope_{_model.__name__}_save")
    post_delete.connect(_scope_cache_clear, sender=_model, dispatch_uid=f"capture_scope_{_model.__name__}_del")


def _perms(user, institution_id: int) -> frozenset[str] | set[str]:
    if user.is_superuser:
        return {"checkin.perform", "student.view_full_id"}
    out: set[str] = set()
    for role in user_roles(user=user, institution_id=institution_id):
        out |= PERMISSIONS.get(role, frozenset())
    return out


def _int(value) -> int | None:
    """A database id from JSON/form input, or None (1e400 parses as inf: int() overflows; ids are 64-bit)."""
    try:
        n = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return n if 0 < n < 2**63 else None
