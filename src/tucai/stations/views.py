"""Camera station pages (thin: permissions, forms, rendering; the work is in services/selectors)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tucai.campaigns.views import get_campaign_for
from tucai.accounts.selectors import user_can, user_institutions, user_sees_full_id
from tucai.campaigns.models import Campaign, Room
from tucai.capture.models import Ticket
from tucai.core.downloads import export_response
from tucai.core.errors import TucaiError
from tucai.stations import progress as progress_sel
from tucai.stations import selectors, services
from tucai.stations.models import Shot, Station


def _station_for(request, pk: int, perm: str = "station.operate") -> Station:
    station = get_object_or_404(Station.objects.select_related("campaign", "room"), pk=pk)
    if not user_can(user=request.user, institution_id=station.campaign.institution_id, perm=perm):
        raise PermissionDenied
    return station


def _shot_for(request, pk: int, perm: str = "station.operate") -> Shot:
    shot = get_object_or_404(Shot.objects.select_related("campaign", "station", "station__room"), pk=pk)
    if not user_can(user=request.user, institution_id=shot.campaign.institution_id, perm=perm):
        raise PermissionDenied
    return shot


def _station_day(request) -> dt.date:
    """The capture day this station works on: ``?day=YYYY-MM-DD`` (as the desk picks it), else today."""
    raw = request.GET.get("day") or request.POST.get("day") or ""
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return timezone.localdate()


def _live_context(request, station: Station, *, error: TucaiError | None = None, notice: str = "") -> dict:
    day = _station_day(request)
    ticket = selectors.station_current_ticket(station=station, date=day)
    shot = selectors.station_latest_shot(station=station)
    inst = station.campaign.institution_id
    version = "-".join(str(x) for x in (
        ticket.pk if ticket else 0, ticket.state if ticket else "", shot.pk if shot else 0,
        shot.state if shot else "", shot.verdict if shot else "", shot.updated_at.timestamp() if shot else 0))
    return {
        "station": station, "ticket": ticket, "shot": shot, "version": version, "error": error, "notice": notice,
        "full_id": user_sees_full_id(user=request.user, institution_id=inst),
        "can_override": user_can(user=request.user, institution_id=inst, perm="photo.override"),
        "unmatched_count": selectors.shot_unmatched_list(campaign=station.campaign).count(),
        "day": day,
    }


@login_required
@require_GET
def index(request):
    inst_ids = list(user_institutions(user=request.user).values_list("pk", flat=True))
    allowed = [i for i in inst_ids if user_can(user=request.user, institution_id=i, perm="station.operate")]
    if not allowed:
        raise PermissionDenied      # a class monitor has no station to run (the page offered a form it did not show)
    return render(request, "stations/index.html", {
        "stations": selectors.station_list(institution_ids=allowed),
        "campaigns": Campaign.objects.filter(institution_id__in=allowed),
        "rooms": Room.objects.filter(institution_id__in=allowed),
    })


@login_required
@require_POST
def station_create(request):
    campaign = get_object_or_404(Campaign, pk=request.POST.get("campaign") or 0)
    if not user_can(user=request.user, institution_id=campaign.institution_id, perm="station.operate"):
        raise PermissionDenied
    room = get_object_or_404(Room, pk=request.POST.get("room") or 0)
    try:
        station = services.station_get_or_create(campaign=campaign, room=room, name=request.POST.get("name", "1"),
                                                 actor=request.user)
    except TucaiError as exc:
        return HttpResponse(exc.message, status=400)
    return redirect("stations:station", pk=station.pk)


@login_required
@require_GET
def station_page(request, pk: int):
    station = _station_for(request, pk)
    day = _station_day(request)
    try:
        queue_url = reverse("capture:queue_controls", args=[station.room_id, day.isoformat()])
        queue_url += f"?campaign={station.campaign_id}"
    except NoReverseMatch:  # the queue fragment is optional: fall back to our own buttons
        queue_url = ""
    ctx = _live_context(request, station)
    ctx.update(queue_url=queue_url, day=day)
    return render(request, "stations/station.html", ctx)


@login_required
@require_GET
def station_live(request, pk: int):
    """The polled fragment: the student at the camera and the latest shot. 204 when nothing changed,
    so htmx leaves the page (and a half-typed override reason) alone."""
    station = _station_for(request, pk)
    ctx = _live_context(request, station)
    if request.GET.get("v") == ctx["version"]:
        return HttpResponse(status=204)
    resp = render(request, "stations/_live.html", ctx)
    resp["HX-Trigger"] = "station-changed"
    return resp


@login_required
@require_POST
def station_upload(request, pk: int):
    station = _station_for(request, pk)
    f = request.FILES.get("photo")
    error = None
    if f is None:
        error = TucaiError("shot.no_file", "请选择照片文件", "Choose a photo file")
    elif f.size > services.MAX_BYTES:
        error = TucaiError("shot.too_large", "文件过大", "The file is too large")
    else:
        try:
            services.shot_ingest(station=station, data=f.read(), filename=f.name, actor=request.user)
        except TucaiError as exc:
            error = exc
    return _respond(request, station, error=error)


@login_required
@require_POST
def station_bind(request, pk: int):
    """The queue fragment called a number at this station: that student is now in front of this camera."""
    station = _station_for(request, pk)
    ticket = get_object_or_404(Ticket, pk=request.POST.get("ticket") or 0, campaign_id=station.campaign_id)
    error = None
    try:
        services.station_bind_ticket(station=station, ticket=ticket, actor=request.user)
    except TucaiError as exc:
        error = exc
    return _respond(request, station, error=error)


@login_required
@require_POST
def station_queue(request, pk: int, action: str):
    """Minimal queue buttons, used only where the capture queue fragment is not installed."""
    from tucai.capture.services import queue as q

    station = _station_for(request, pk)
    if not user_can(user=request.user, institution_id=station.campaign.institution_id, perm="queue.operate"):
        raise PermissionDenied
    error = None
    try:
        if action == "call_next":
            t = q.queue_call_next(campaign=station.campaign, room=station.room, date=_station_day(request),
                                  actor=request.user)
            if t is None:
                error = TucaiError("queue.empty", "没有等待的学生", "Nobody is waiting")
            else:
                services.station_bind_ticket(station=station, ticket=t, actor=request.user)
        else:
            fn = {"recall": q.queue_recall, "skip": q.queue_skip}.get(action)
            ticket = selectors.station_current_ticket(station=station)
            if fn is None:
                raise Http404
            if ticket is None:
                error = TucaiError("station.no_ticket", "当前没有学生", "Nobody is at the camera")
            else:
                fn(ticket=ticket, actor=request.user)
    except TucaiError as exc:
        error = exc
    return _respond(request, station, error=error)


@login_required
@require_POST
def shot_action(request, pk: int, action: str):
    shot = _shot_for(request, pk)
    station = shot.station
    error = None
    notice = ""
    try:
        if action == "accept":
            services.shot_accept(shot=shot, actor=request.user)
            notice = _("已采用，照片已保存")
        elif action == "retake":
            services.shot_retake(shot=shot, actor=request.user, note=request.POST.get("note", ""))
            notice = _("请重拍")
        elif action == "override":
            services.shot_override(shot=shot, actor=request.user, reason=request.POST.get("reason", ""))
            notice = _("已强制采用")
        elif action == "reassign":
            ticket = get_object_or_404(Ticket, pk=request.POST.get("ticket") or 0, campaign_id=shot.campaign_id)
            services.shot_reassign(shot=shot, ticket=ticket, actor=request.user)
            if request.POST.get("next") == "unmatched":
                return redirect("stations:unmatched", code=shot.campaign.code)
        else:
            raise Http404
    except TucaiError as exc:
        error = exc
        if action == "reassign" and request.POST.get("next") == "unmatched":
            return _unmatched_render(request, shot.campaign, error=error)
    return _respond(request, station, error=error, notice=notice)


def _respond(request, station, *, error=None, notice=""):
    ctx = _live_context(request, station, error=error, notice=notice)
    if request.headers.get("HX-Request"):
        resp = render(request, "stations/_live.html", ctx, status=200)
        resp["HX-Trigger"] = "station-changed"
        return resp
    if error is not None:
        ctx.update(queue_url="")
        return render(request, "stations/station.html", ctx, status=400)
    return redirect("stations:station", pk=station.pk)


@login_required
@require_GET
def shot_image(request, pk: int, kind: str):
    """A shot's original, preview or accepted photo, to signed-in operators only (student data)."""
    shot = _shot_for(request, pk)
    field = {"original": shot.original, "preview": shot.preview, "photo": shot.normalized}.get(kind)
    if not field:
        raise Http404
    resp = FileResponse(field.open("rb"), content_type="image/jpeg" if kind != "original" else None)
    resp["Cache-Control"] = "private, max-age=3600"
    return resp


def _unmatched_render(request, campaign, *, error=None):
    q = request.GET.get("q", "")
    return render(request, "stations/unmatched.html", {
        "campaign": campaign, "shots": selectors.shot_unmatched_list(campaign=campaign),
        "tickets": selectors.ticket_candidates(campaign=campaign, query=q), "q": q, "error": error,
    }, status=400 if error else 200)


@login_required
@require_GET
def unmatched(request, code: str):
    return _unmatched_render(request, get_campaign_for(request, code, "station.operate"))


@login_required
@require_GET
def progress(request, code: str):
    campaign = get_campaign_for(request, code, "campaign.view")
    try:
        class_ids = progress_sel.progress_class_scope(user=request.user, campaign=campaign)
    except TucaiError:
        raise PermissionDenied from None
    download = export_response(
        request, stem=f"progress-{campaign.code}", sheets=progress_sel.SHEETS, default_sheet="补拍名单",
        xlsx=lambda: progress_sel.progress_export_xlsx(campaign=campaign, class_ids=class_ids),
        csv=lambda sheet: progress_sel.progress_export_csv(campaign=campaign, sheet=sheet, class_ids=class_ids))
    if download is not None:
        return download
    data = progress_sel.progress_summary(campaign=campaign, class_ids=class_ids)
    for a in data["absentees"]:
        a["status_label"] = progress_sel.STATUS_ZH[a["status"]]
    return render(request, "stations/progress.html", {"campaign": campaign, "data": data,
                                                      "sheets": progress_sel.SHEETS,
                                                      "class_scoped": class_ids is not None})
