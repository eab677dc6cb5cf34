"""Reads for capture day: queue views, positions, codes, scans."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from tucai.campaigns.models import Campaign
from tucai.capture.models import Ticket, TicketState

SERVING_STATES = (TicketState.CALLED, TicketState.AT_CAMERA)


def queue_now_serving(*, room, date: dt.date, campaign=None) -> list[Ticket]:
    """Tickets called or at the camera in this room today, most recently called first."""
    qs = Ticket.objects.filter(room=room, date=date, state__in=SERVING_STATES)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return list(qs.select_related("student", "student__school_class").order_by("-called_at", "-number"))


def queue_waiting(*, room, date: dt.date, campaign=None, limit: int | None = None) -> QuerySet[Ticket]:
    """Waiting tickets in queue order (the next to be called first)."""
    qs = Ticket.objects.filter(room=room, date=date, state=TicketState.WAITING)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    qs = qs.select_related("student").order_by("queue_order", "number")
    return qs[:limit] if limit is not None else qs


def ticket_position(*, ticket: Ticket) -> int:
    """How many waiting tickets are ahead of ``ticket`` (0 when it is next or no longer waiting)."""
    if ticket.state != TicketState.WAITING:
        return 0
    return Ticket.objects.filter(campaign_id=ticket.campaign_id, room_id=ticket.room_id, date=ticket.date,
                                 state=TicketState.WAITING, queue_order__lt=ticket.queue_order).count()


def campaign_for_room_day(*, room, date: dt.date, campaign_id: int | None = None):
    """The campaign a room works for on ``date``: the given id (checked against the room's institution),
    else the institution's campaign whose capture window contains the day, else its latest one."""
    from tucai.campaigns.models import Campaign

    qs = Campaign.objects.filter(institution_id=room.institution_id)
    if campaign_id is not None:
        return qs.filter(pk=campaign_id).first()
    return (qs.filter(capture_start__lte=date, capture_end__gte=date).order_by("-capture_start").first()
            or qs.order_by("-capture_end").first())


def student_search(*, campaign, query: str, limit: int = 20) -> list:
    """Students of ``campaign`` whose 学号 starts with ``query`` or whose name contains it."""
    from django.db.models import F, Q, Value
    from django.db.models.functions import Replace

    from tucai.campaigns.models import Student

    # Spaces do not count in a name: "钟 妍佳" (or a full-width space) finds 钟妍佳, "JohnSmith" John Smith.
    q = "".join((query or "").split())
    if not q:
        return []
    compact = Replace(Replace(F("name"), Value(" "), Value("")), Value("\u3000"), Value(""))
    return list(Student.objects.filter(campaign=campaign).annotate(name_compact=compact)
                .filter(Q(student_no__startswith=q) | Q(name_compact__contains=q))
                .select_related("school_class").order_by("student_no")[:limit])


def capture_code_active(*, student):
    from tucai.capture.models import CaptureCode

    return CaptureCode.objects.filter(student=student, revoked_at__isnull=True).order_by("-version").first()


def student_ticket_for_day(*, student, date: dt.date) -> Ticket | None:
    return Ticket.objects.filter(student=student, date=date).select_related("room").first()


def queue_board(*, room, date: dt.date, campaign_id: int | None = None, next_count: int = 8) -> dict:
    """What the public display shows: numbers being served and the next waiting numbers.

    Numbers run per (campaign, room, day), so when two campaigns share a room on one day the same
    number exists twice: the board then shows one block per campaign, each under its name. With
    ``campaign_id`` only that campaign's queue is shown (the desk links its display that way)."""
    tickets = Ticket.objects.filter(room=room, date=date)
    if campaign_id is not None:
        tickets = tickets.filter(campaign_id=campaign_id)
    # order_by() drops Ticket.Meta.ordering, which would otherwise join and select its columns and
    # defeat the DISTINCT (one row per ticket, every second).
    campaign_ids = sorted(tickets.order_by().values_list("campaign_id", flat=True).distinct())
    if campaign_id is not None and not campaign_ids:
        campaign_ids = [campaign_id]
    names = dict(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "name"))
    boards = []
    for cid in campaign_ids or [None]:
        qs = tickets if cid is None else tickets.filter(campaign_id=cid)
        boards.append({
            "campaign_id": cid,
            "campaign_name": names.get(cid, ""),
            "serving": list(qs.filter(state__in=SERVING_STATES).order_by("-called_at")
                            .values("number", "state", "called_at")[:6]),
            "upcoming": list(qs.filter(state=TicketState.WAITING).order_by("queue_order", "number")
                             .values_list("number", flat=True)[:next_count]),
        })
    return {"room": room, "day": date, "campaign_id": campaign_id, "boards": boards,
            "several": len(boards) > 1}


def student_latest_ticket(*, student) -> Ticket | None:
    """The student's most recent ticket (the one their phone shows)."""
    return Ticket.objects.filter(student=student).select_related("room").order_by("-date", "-pk").first()


def capture_codes_active_count(*, campaign) -> int:
    from tucai.capture.models import CaptureCode

    return CaptureCode.objects.filter(campaign=campaign, revoked_at__isnull=True).count()
