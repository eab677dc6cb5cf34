"""Reads for camera stations: the current student, the latest shot, the unmatched bucket."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, QuerySet
from django.utils import timezone

from tucai.capture.models import Ticket, TicketState
from tucai.stations.models import ACCEPTED_STATES, Shot, ShotState, Station

SERVING_STATES = (TicketState.CALLED, TicketState.AT_CAMERA)


def accepted_photos() -> QuerySet[Shot]:
    """Accepted shots with their stored 480×640 photo, the newest decision first (an undecided one
    last on every database): the first one of a student is that student's photo. Proofreading shows
    it and the hand-off ships it."""
    return (Shot.objects.filter(state__in=ACCEPTED_STATES).exclude(normalized="")
            .order_by(F("decided_at").desc(nulls_last=True), "-id"))


def station_current_ticket(*, station: Station, date: dt.date | None = None) -> Ticket | None:
    """The ticket in front of this camera.

    The station's own binding while that ticket is still being served; otherwise the room's most
    recently called ticket that no other station of the room holds (one camera per room needs no
    binding at all: "call next" at the queue is enough)."""
    day = date or timezone.localdate()
    if station.current_ticket_id:
        t = Ticket.objects.select_related("student", "student__school_class").filter(
            pk=station.current_ticket_id, state__in=SERVING_STATES).first()
        if t is not None:
            return t
    held = Station.objects.filter(room_id=station.room_id, campaign_id=station.campaign_id,
                                  current_ticket__state__in=SERVING_STATES).exclude(pk=station.pk)
    return (Ticket.objects.select_related("student", "student__school_class")
            .filter(campaign_id=station.campaign_id, room_id=station.room_id, date=day, state__in=SERVING_STATES)
            .exclude(pk__in=held.values("current_ticket_id"))
            .order_by("-called_at", "-number").first())


def station_latest_shot(*, station: Station) -> Shot | None:
    return (Shot.objects.select_related("student", "student__school_class", "ticket")
            .filter(station=station).order_by("-received_at", "-id").first())


def station_list(*, campaign=None, institution_ids=None) -> QuerySet[Station]:
    qs = Station.objects.select_related("campaign", "room", "current_ticket")
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if institution_ids is not None:
        qs = qs.filter(campaign__institution_id__in=institution_ids)
    return qs.order_by("campaign__code", "room__building", "room__name", "name")


def shot_unmatched_list(*, campaign) -> QuerySet[Shot]:
    return (Shot.objects.select_related("station", "station__room")
            .filter(campaign=campaign, state=ShotState.UNMATCHED).order_by("received_at", "id"))


def shot_pending_checks(*, station: Station | None = None, campaign=None) -> QuerySet[Shot]:
    """Shots whose check never wrote a verdict (the check crashed or the worker was killed)."""
    qs = Shot.objects.filter(verdict="", state__in=(ShotState.RECEIVED, ShotState.UNMATCHED))
    if station is not None:
        qs = qs.filter(station=station)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return qs.order_by("id")


def ticket_candidates(*, campaign, date: dt.date | None = None, query: str = "", limit: int = 30) -> list[Ticket]:
    """Tickets an unmatched frame can be reassigned to: today's, newest first, filtered by number/学号/name."""
    qs = Ticket.objects.select_related("student", "room").filter(campaign=campaign)
    if date is not None:
        qs = qs.filter(date=date)
    q = query.strip()
    if q:
        from django.db.models import Q

        cond = Q(student__student_no__startswith=q) | Q(student__name__contains=q)
        if q.isdigit():
            cond |= Q(number=int(q))
        qs = qs.filter(cond)
    return list(qs.order_by("-date", "-called_at", "-number")[:limit])


def room_resolve(*, campaign, ref: str):
    """The room of the campaign's institution named by ``ref``: an id, a name ("101"), or building+name."""
    from tucai.campaigns.models import Room
    from tucai.core.errors import TucaiError

    ref = (ref or "").strip()
    rooms = Room.objects.filter(institution_id=campaign.institution_id)
    found = []
    if ref.isdigit():
        found = list(rooms.filter(pk=int(ref)))
    if not found:
        found = list(rooms.filter(name=ref)) or [r for r in rooms if str(r) == ref or f"{r.building} {r.name}" == ref]
    if len(found) != 1:
        raise TucaiError("room.not_found" if not found else "room.ambiguous",
                         f"找不到唯一的拍摄室“{ref}”", f"No unique room {ref!r}",
                         details={"ref": ref, "matches": [str(r) for r in found]})
    return found[0]
