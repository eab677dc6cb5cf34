"""Schedule board (office moves classes between slots, htmx) and the printable notice."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tucai.accounts.selectors import user_can
from tucai.campaigns.forms_schedule import ScheduleMoveForm, ScheduleUnassignForm
from tucai.campaigns.services.notice import notice_context, notice_pdf
from tucai.campaigns.services.planner import schedule_apply, schedule_assign, schedule_overview, schedule_unassign
from tucai.campaigns.views import get_campaign_for
from tucai.core.errors import TucaiError


def _board_context(request, campaign, *, error: TucaiError | None = None, notice: str = "",
                   warnings: list | None = None) -> dict:
    ov = schedule_overview(campaign=campaign)
    # Rows = time windows, columns = rooms (the notice's layout).
    rooms: dict[int, str] = {}
    windows: dict[tuple, dict[int, dict]] = {}
    for row in ov["slots"]:
        rooms.setdefault(row["room_id"], row["room"])
        windows.setdefault((row["date"], row["start"], row["end"]), {})[row["room_id"]] = row
    grid = [{"date": d, "start": s, "end": e, "cells": [cells.get(rid) for rid in rooms]}
            for (d, s, e), cells in windows.items()]
    slot_choices = [(row["id"], f"{row['start']:%H:%M}–{row['end']:%H:%M} {row['slot'].room.name}")
                    for row in ov["slots"]]
    return {**ov, "rooms": list(rooms.values()), "grid": grid, "slot_choices": slot_choices,
            "can_edit": user_can(user=request.user, institution_id=campaign.institution_id, perm="schedule.edit"),
            "error": error, "notice": notice, "warnings": warnings or [],
            "multi_day": len({r["date"] for r in ov["slots"]}) > 1}


def _respond(request, campaign, **ctx):
    """htmx gets the board fragment; a plain form post is redirected back to the page."""
    if request.headers.get("HX-Request"):
        return render(request, "campaigns/schedule/_board.html", _board_context(request, campaign, **ctx))
    if ctx.get("error"):
        messages.error(request, ctx["error"].message)
    elif ctx.get("notice"):
        messages.success(request, ctx["notice"])
    for w in ctx.get("warnings") or []:
        messages.warning(request, w)
    return redirect("campaigns:schedule_page", code=campaign.code)


@login_required
def schedule_page(request, code: str):
    campaign = get_campaign_for(request, code)
    return render(request, "campaigns/schedule/page.html", _board_context(request, campaign))


@login_required
@require_POST
def schedule_move(request, code: str):
    campaign = get_campaign_for(request, code, perm="schedule.edit")
    form = ScheduleMoveForm(request.POST, campaign=campaign)
    if not form.is_valid():
        err = TucaiError("schedule.bad_request", "请选择本活动的班级和时段", "Choose a class and a slot of this campaign",
                         details=form.errors.get_json_data())
        return _respond(request, campaign, error=err)
    cls, slot = form.cleaned_data["school_class"], form.cleaned_data["slot"]
    try:
        schedule_assign(school_class=cls, slot=slot, position=form.cleaned_data["position"], actor=request.user)
    except TucaiError as e:
        return _respond(request, campaign, error=e)
    return _respond(request, campaign, notice=_("已将 %(cls)s 安排到 %(slot)s") % {
        "cls": cls.name, "slot": f"{slot.start:%H:%M}–{slot.end:%H:%M} {slot.room}"})


@login_required
@require_POST
def schedule_unassign_view(request, code: str):
    campaign = get_campaign_for(request, code, perm="schedule.edit")
    form = ScheduleUnassignForm(request.POST, campaign=campaign)
    if not form.is_valid():
        return _respond(request, campaign, error=TucaiError("schedule.bad_request", "请选择本活动的班级",
                                                            "Choose a class of this campaign"))
    schedule_unassign(school_class=form.cleaned_data["school_class"], actor=request.user)
    return _respond(request, campaign, notice=_("已将 %(cls)s 移出排期") % {"cls": form.cleaned_data["school_class"].name})


@login_required
@require_POST
def schedule_plan_view(request, code: str):
    """Replace the schedule with a fresh plan (the page asks for confirmation first)."""
    campaign = get_campaign_for(request, code, perm="schedule.edit")
    try:
        plan = schedule_apply(campaign=campaign, actor=request.user)
    except TucaiError as e:
        return _respond(request, campaign, error=e)
    return _respond(request, campaign, notice=_("已自动排期：%(n)d 个班级") % {"n": len(plan.placements)},
                    warnings=[TucaiError(w.code, w.message_zh, w.message_en).message for w in plan.warnings])


@login_required
def notice_page(request, code: str):
    campaign = get_campaign_for(request, code)
    return render(request, "campaigns/notice/notice.html", notice_context(campaign=campaign))


@login_required
def notice_pdf_view(request, code: str):
    campaign = get_campaign_for(request, code)
    response = HttpResponse(notice_pdf(campaign=campaign), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{campaign.code}.pdf"'
    return response

