"""Queue controls at the camera (an htmx fragment the station page includes) and the public display."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_POST

from tucai.accounts.selectors import user_can
from tucai.campaigns.models import Room
from tucai.capture import selectors
from tucai.capture.models import Ticket
from tucai.capture.services import queue as queue_services
from tucai.core.errors import TucaiError


def parse_day(day: str) -> dt.date:
    try:
        return dt.date.fromisoformat(day)
    except ValueError:
        raise Http404("bad date") from None


def _room_for(request, room_id: int, perm: str) -> Room:
    room = get_object_or_404(Room, pk=room_id)
    if not user_can(user=request.user, institution_id=room.institution_id, perm=perm):
        raise PermissionDenied
    return room


def _controls_context(request, room, day, campaign, *, error=None, last=None):
    return {
        "room": room, "day": day, "campaign": campaign,
        "serving": selectors.queue_now_serving(room=room, date=day, campaign=campaign),
        "waiting_count": selectors.queue_waiting(room=room, date=day, campaign=campaign).count(),
        "error": error, "last": last,
    }


@login_required
@require_http_methods(["GET"])
def queue_controls(request, room_id: int, day: str):
    """叫下一位 / 重新叫号 / 过号 — the fragment the station page loads with hx-get."""
    room = _room_for(request, room_id, "queue.operate")
    day_ = parse_day(day)
    campaign = selectors.campaign_for_room_day(room=room, date=day_, campaign_id=_int(request.GET.get("campaign")))
    return render(request, "capture/_queue_controls.html", _controls_context(request, room, day_, campaign))


@login_required
@require_POST
def queue_action(request, room_id: int, day: str, action: str):
    room = _room_for(request, room_id, "queue.operate")
    day_ = parse_day(day)
    campaign = selectors.campaign_for_room_day(room=room, date=day_, campaign_id=_int(request.POST.get("campaign")))
    if campaign is None:
        raise Http404("no campaign")
    error = None
    last = None
    try:
        if action == "call_next":
            last = queue_services.queue_call_next(campaign=campaign, room=room, date=day_, actor=request.user)
            if last is None:
                error = TucaiError("queue.empty", "没有等待的学生", "Nobody is waiting")
        else:
            ticket = get_object_or_404(Ticket, pk=_int(request.POST.get("ticket")) or 0, room=room, date=day_,
                                       campaign=campaign)
            fn = {"recall": queue_services.queue_recall, "skip": queue_services.queue_skip,
                  "start": queue_services.queue_start, "finish": queue_services.queue_finish}.get(action)
            if fn is None:
                raise Http404("unknown action")
            last = fn(ticket=ticket, actor=request.user)
    except TucaiError as exc:
        error = exc
    response = render(request, "capture/_queue_controls.html",
                      _controls_context(request, room, day_, campaign, error=error, last=last))
    if last is not None:
        # Lets the station page refresh its "current student" panel when the queue moves.
        response["HX-Trigger"] = '{"queue-changed": {"ticket": %d, "action": "%s"}}' % (last.pk, action)
    return response


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- the public "now serving" display (a TV in the corridor) ----------------------------------

@require_http_methods(["GET"])
def display(request, room_id: int, day: str):
    """Public page: no login, numbers only (no names on a public screen). ``?campaign=`` limits it to
    one campaign's queue (numbers are per campaign, room and day)."""
    room = get_object_or_404(Room, pk=room_id)
    return render(request, "capture/display.html", {"room": room, "day": parse_day(day),
                                                    "campaign_id": _campaign_param(request)})


@require_http_methods(["GET"])
def display_fragment(request, room_id: int, day: str):
    """Polled every second by the display: a few small indexed queries."""
    room = get_object_or_404(Room, pk=room_id)
    return render(request, "capture/_display.html",
                  selectors.queue_board(room=room, date=parse_day(day), campaign_id=_campaign_param(request)))


def _campaign_param(request) -> int | None:
    raw = request.GET.get("campaign")
    if raw in (None, ""):
        return None
    value = _int(raw)
    if value is None or not 0 < value < 2**63:   # SQLite refuses integers past 64 bits (OverflowError)
        raise Http404("bad campaign")
    return value


@login_required
@require_http_methods(["GET"])
def queue_page(request, room_id: int, day: str):
    """A bare calling page for a room (without a station): the controls fragment plus the board."""
    room = _room_for(request, room_id, "queue.operate")
    return render(request, "capture/queue_page.html", {"room": room, "day": parse_day(day),
                                                       "campaign_id": _int(request.GET.get("campaign"))})
