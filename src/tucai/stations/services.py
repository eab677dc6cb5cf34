"""Writes for camera stations: take a frame in, check it, accept / retake / override / reassign.

Order of work in :func:`shot_ingest` is what makes a crash harmless at any point:
hash → (already known? return it) → store the original under its hash → commit the row → check.
A kill before the commit leaves at most a stored file that the next ingest of the same bytes reuses
(after verifying it); a kill during the check leaves a row without a verdict that
``tucai station recheck`` (and the watcher at start) runs again."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from tucai.accounts.selectors import require
from tucai.audit.services import audit_record
from tucai.capture.models import Ticket, TicketState
from tucai.capture.state import ticket_transition
from tucai.core.errors import TucaiError
from tucai.stations.models import ACCEPTED_STATES, Shot, ShotState, Station, Verdict
from tucai.stations.selectors import station_current_ticket
from tucai.stations.state import shot_transition

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "tif", "tiff", "webp", "bmp"})
MAX_BYTES = 60 * 1024 * 1024


# --- stations ------------------------------------------------------------------------------------

def station_get_or_create(*, campaign, room, name: str = "1", hot_folder: str = "", actor=None,
                          actor_label: str = "") -> Station:
    if room.institution_id != campaign.institution_id:
        raise TucaiError("station.room_other_institution", f"拍摄室“{room}”不属于该活动的院校",
                         f"Room {room} does not belong to the campaign's institution")
    name = (name or "1").strip()[:50]
    with transaction.atomic():
        station, created = Station.objects.get_or_create(campaign=campaign, room=room, name=name,
                                                         defaults={"hot_folder": hot_folder})
        if created or (hot_folder and station.hot_folder != hot_folder):
            old = "" if created else station.hot_folder
            if hot_folder:
                station.hot_folder = hot_folder
                station.save(update_fields=["hot_folder", "updated_at"])
            audit_record(actor=actor, actor_label=actor_label, action="station.create" if created else "station.update",
                         obj=station, changes={"hot_folder": [old, station.hot_folder]}, campaign_id=campaign.pk)
    return station


def station_bind_ticket(*, station: Station, ticket: Ticket | None, actor=None, actor_label: str = "") -> Station:
    """The student in front of this camera is ``ticket`` from now on (None: nobody)."""
    if ticket is not None and (ticket.campaign_id != station.campaign_id or ticket.room_id != station.room_id):
        raise TucaiError("station.ticket_other_room", f"排队号 {ticket.number} 不属于本拍摄室",
                         f"Ticket {ticket.number} belongs to another room or campaign")
    with transaction.atomic():
        locked = Station.objects.select_for_update().get(pk=station.pk)
        old = locked.current_ticket_id
        if old != (ticket.pk if ticket else None):
            locked.current_ticket = ticket
            locked.save(update_fields=["current_ticket", "updated_at"])
            audit_record(actor=actor, actor_label=actor_label, action="station.bind", obj=locked,
                         changes={"current_ticket": [old, ticket.pk if ticket else None]},
                         campaign_id=locked.campaign_id)
    station.refresh_from_db()
    return station


# --- taking a frame in ---------------------------------------------------------------------------

def _extension(filename: str) -> str:
    ext = Path(filename or "").suffix.lower().lstrip(".")
    ext = re.sub(r"[^a-z0-9]", "", ext)[:8]
    return "jpg" if ext == "jpeg" else (ext or "bin")


def _store_verified(name: str, data: bytes, sha256: str) -> str:
    """Save ``data`` under ``name`` unless an identical file is already there; never overwrite a good one.

    A file with that name but other bytes can only be our own half-written copy from a killed run
    (the name is the content hash), so it is replaced."""
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as fh:
            if hashlib.sha256(fh.read()).hexdigest() == sha256:
                return name
        log.warning("replacing a damaged stored copy %s", name)
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(data))


def _ticket_token(ticket: Ticket | None) -> str:
    return (getattr(ticket, "raw_code", "") or "") if ticket is not None else ""


def shot_ingest(*, station: Station, path: str | Path | None = None, data: bytes | None = None,
                filename: str = "", actor=None, actor_label: str = "", source_path: str = "",
                source_mtime_ns: int | None = None, run_check: bool = True) -> Shot:
    """Take one frame in at ``station`` (from ``path`` or ``data``) and return its :class:`Shot`.

    The same bytes a second time (another name, a restart of the watcher) return the existing shot
    and change nothing (``shot.was_created`` tells the two apart). A new frame binds to the station's
    current ticket, or goes to the unmatched
    bucket when nobody is at the camera; the photo check then runs as a task."""
    if (path is None) == (data is None):
        raise TucaiError("shot.bad_input", "需提供文件路径或文件内容之一", "Give exactly one of path or data")
    if path is not None:
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise TucaiError("shot.unreadable", f"无法读取文件：{p.name}", f"Cannot read {p}: {exc}") from exc
        filename = filename or p.name
        source_path = source_path or str(p)
    assert data is not None
    if not data:
        raise TucaiError("shot.empty", "文件为空", "The file is empty")
    if len(data) > MAX_BYTES:
        raise TucaiError("shot.too_large", "文件过大", f"The file is larger than {MAX_BYTES} bytes")
    ext = _extension(filename)
    if ext not in IMAGE_EXTENSIONS:
        raise TucaiError("shot.bad_type", f"不支持的文件类型：.{ext}", f"Unsupported file type .{ext}")

    sha = hashlib.sha256(data).hexdigest()
    existing = Shot.objects.filter(campaign_id=station.campaign_id, sha256=sha).first()
    if existing is not None:
        existing.was_created = False
        return existing

    campaign = station.campaign
    day = timezone.localdate()
    name = f"originals/{campaign.code}/{station.room_id}/{day:%Y-%m-%d}/{sha}.{ext}"
    stored = _store_verified(name, data, sha)

    try:
        with transaction.atomic():
            station = Station.objects.select_for_update().get(pk=station.pk)
            ticket = station_current_ticket(station=station, date=day)
            shot = Shot.objects.create(
                campaign_id=station.campaign_id, station=station, ticket=ticket,
                student_id=ticket.student_id if ticket else None,
                state=ShotState.RECEIVED if ticket else ShotState.UNMATCHED,
                original=stored, sha256=sha, size=len(data), filename=(filename or "")[:255],
                source_path=source_path[:1000], source_mtime_ns=source_mtime_ns,
                capture_token=_ticket_token(ticket),
            )
            if ticket is not None:
                if station.current_ticket_id != ticket.pk:
                    station.current_ticket = ticket
                    station.save(update_fields=["current_ticket", "updated_at"])
                # Locked and read again: another station may have moved the ticket a moment ago.
                state = Ticket.objects.select_for_update().values_list("state", flat=True).get(pk=ticket.pk)
                if state == TicketState.CALLED:
                    # A frame from the camera means the called student is standing there.
                    ticket_transition(ticket=ticket, to=TicketState.AT_CAMERA, actor=actor,
                                      actor_label=actor_label, note="first frame")
            audit_record(actor=actor, actor_label=actor_label, action="shot.received", obj=shot,
                         changes={"state": [None, shot.state], "ticket": [None, shot.ticket_id],
                                  "student": [None, shot.student_id], "sha256": [None, sha],
                                  "original": [None, stored]},
                         note=source_path or filename, campaign_id=shot.campaign_id)
    except IntegrityError:
        # Another process took the same bytes a moment earlier: theirs is the one.
        existing = Shot.objects.filter(campaign_id=station.campaign_id, sha256=sha).first()
        if existing is None:
            raise
        if stored != existing.original.name:
            default_storage.delete(stored)  # our racing copy got a suffixed name: not needed
        existing.was_created = False
        return existing

    if run_check:
        shot_check_enqueue(shot=shot)
        shot.refresh_from_db()
    shot.was_created = True
    return shot


def shot_check_enqueue(*, shot: Shot) -> None:
    """Run the photo check as a task (inline with the embedded immediate backend)."""
    from tucai.stations.tasks import shot_check_task

    shot_check_task.enqueue(shot_id=shot.pk)


# --- the photo check -----------------------------------------------------------------------------

def _photo_process(data: bytes, *, profile: str, filename: str):
    """The photo engine (imported late: it loads its models once per process, and it may be absent)."""
    from tucai.photo.pipeline import process

    return process(data, profile=profile, normalize=True, filename=filename)


def shot_check(*, shot_id: int) -> Shot | None:
    """Check one shot and write its verdict. Idempotent: a shot with a verdict is left alone.

    Whatever goes wrong inside the engine becomes verdict ``error`` with the reason in the report,
    so the photographer sees it and can retake or override."""
    shot = Shot.objects.select_related("campaign").filter(pk=shot_id).first()
    if shot is None or shot.verdict:
        return shot
    with shot.original.open("rb") as fh:
        data = fh.read()
    preview_bytes = None
    try:
        result = _photo_process(data, profile=shot.campaign.photo_profile or "chsi", filename=shot.filename)
        verdict = str(result.verdict)
        report = dict(result.report or {})
        preview_bytes = result.normalized_jpeg
    except Exception as exc:  # the engine must never lose a frame: record the failure instead
        log.exception("photo check failed for shot %s", shot_id)
        verdict = Verdict.ERROR
        report = {"verdict": "error", "checks": [], "retake_reasons": [],
                  "error": {"code": "photo.engine_failed", "message": "照片检测出错，请重拍或人工判断",
                            "message_en": f"The photo check failed: {type(exc).__name__}: {exc}"}}
    if verdict not in Verdict.values:
        verdict = Verdict.ERROR
    preview_name = ""
    if preview_bytes:
        preview_name = _store_verified(f"previews/{shot.campaign.code}/{shot.sha256}.jpg", preview_bytes,
                                       hashlib.sha256(preview_bytes).hexdigest())
    shot.refresh_from_db()
    if shot.verdict:
        return shot
    to = ShotState.CHECKED if shot.state == ShotState.RECEIVED else shot.state
    failed = [c.get("id") for c in report.get("checks", []) if not c.get("ok", True)]
    return shot_transition(shot=shot, to=to, actor_label="photo-check", verdict=verdict, report=report,
                           preview=preview_name, checked_at=timezone.now(),
                           changes={"failed_checks": [None, failed]})


# --- the photographer's decisions ----------------------------------------------------------------

def _require(actor, shot: Shot, perm: str) -> None:
    # Services called from the CLI act without a user; a signed-in user must hold the permission.
    if actor is not None and getattr(actor, "is_authenticated", False):
        require(user=actor, institution_id=shot.campaign.institution_id, perm=perm)


def _finish_ticket(ticket: Ticket, *, actor, actor_label: str) -> None:
    """Walk the ticket to DONE from wherever it is (a reassigned frame may belong to a ticket that
    was skipped or is still waiting)."""
    from tucai.capture.services.queue import queue_finish, queue_start

    ticket.refresh_from_db()
    path = {
        TicketState.SKIPPED: [TicketState.WAITING, TicketState.CALLED, TicketState.AT_CAMERA],
        TicketState.NO_SHOW: [TicketState.WAITING, TicketState.CALLED, TicketState.AT_CAMERA],
        TicketState.WAITING: [TicketState.CALLED, TicketState.AT_CAMERA],
        TicketState.CALLED: [TicketState.AT_CAMERA],
    }.get(ticket.state, [])
    for step in path:
        if step == TicketState.AT_CAMERA:
            queue_start(ticket=ticket, actor=actor, actor_label=actor_label)
        else:
            ticket_transition(ticket=ticket, to=step, actor=actor, actor_label=actor_label, note="photo accepted")
    if ticket.state == TicketState.AT_CAMERA:
        queue_finish(ticket=ticket, actor=actor, actor_label=actor_label)


def _fallback_normalized(data: bytes) -> bytes:
    """A plain centred 3:4 crop at 480×640 for an overridden frame the engine could not normalise."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        w, h = im.size
        if w * 4 > h * 3:
            cw, ch = h * 3 // 4, h
        else:
            cw, ch = w, w * 4 // 3
        left, top = (w - cw) // 2, (h - ch) // 2
        out = im.crop((left, top, left + cw, top + ch)).resize((480, 640), Image.LANCZOS)
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=85, dpi=(300, 300))
        return buf.getvalue()


def _store_normalized(shot: Shot, *, allow_fallback: bool) -> str:
    if shot.preview:
        with shot.preview.open("rb") as fh:
            data = fh.read()
    elif allow_fallback:
        with shot.original.open("rb") as fh:
            try:
                data = _fallback_normalized(fh.read())
            except Exception as exc:
                raise TucaiError("shot.not_an_image", "无法读取该图片，不能采用", f"Cannot decode the image: {exc}") from exc
    else:
        raise TucaiError("shot.no_normalized", "没有标准照片，不能采用", "There is no normalised photo to accept")
    sno = shot.student.student_no if shot.student_id else "unmatched"
    return _store_verified(f"photos/{shot.campaign.code}/{sno}-{shot.sha256[:16]}.jpg", data,
                           hashlib.sha256(data).hexdigest())


def _decide(*, shot: Shot, to: str, actor, actor_label: str, note: str = "", **fields) -> Shot:
    with transaction.atomic():
        # Any earlier accepted photo of the student is superseded by this one (one photo per student).
        for older in Shot.objects.filter(student_id=shot.student_id, state__in=ACCEPTED_STATES).exclude(pk=shot.pk):
            shot_transition(shot=older, to=ShotState.REJECTED, actor=actor, actor_label=actor_label,
                            note=f"superseded by shot #{shot.pk}")
        shot = shot_transition(shot=shot, to=to, actor=actor, actor_label=actor_label, note=note,
                               decided_by=actor if getattr(actor, "is_authenticated", False) else None,
                               decided_at=timezone.now(), **fields)
        if shot.ticket_id:
            _finish_ticket(shot.ticket, actor=actor, actor_label=actor_label)
    return shot


def _require_state(shot: Shot, *states: str, code: str, zh: str, en: str) -> None:
    shot.refresh_from_db()
    if shot.state not in states:
        raise TucaiError(code, zh, en, details={"state": shot.state})


def shot_accept(*, shot: Shot, actor=None, actor_label: str = "") -> Shot:
    """Accept a frame that passed the check: store the normalised 480×640 and finish the ticket."""
    _require(actor, shot, "station.operate")
    _require_state(shot, ShotState.CHECKED, code="shot.not_checked", zh="照片尚未检测完成或未匹配学生",
                   en="The shot is not checked or not bound to a student")
    if shot.verdict != Verdict.PASS:
        raise TucaiError("shot.check_failed", "照片未通过检测：请重拍，或填写理由后强制采用",
                         "The photo failed the check: retake it, or override with a reason")
    if not shot.student_id:
        raise TucaiError("shot.unmatched", "照片未匹配学生", "The shot is not bound to a student")
    return _decide(shot=shot, to=ShotState.ACCEPTED, actor=actor, actor_label=actor_label,
                   normalized=_store_normalized(shot, allow_fallback=False))


def shot_override(*, shot: Shot, actor=None, reason: str, actor_label: str = "") -> Shot:
    """Accept a frame despite a failed check; the reason is required and kept in the audit log."""
    _require(actor, shot, "photo.override")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise TucaiError("shot.override_reason_required", "强制采用必须填写理由",
                         "An override needs a reason")
    _require_state(shot, ShotState.CHECKED, code="shot.not_checked", zh="照片尚未检测完成或未匹配学生",
                   en="The shot is not checked or not bound to a student")
    if not shot.student_id:
        raise TucaiError("shot.unmatched", "照片未匹配学生", "The shot is not bound to a student")
    return _decide(shot=shot, to=ShotState.OVERRIDE, actor=actor, actor_label=actor_label, note=reason,
                   override_reason=reason[:2000], normalized=_store_normalized(shot, allow_fallback=True))


def shot_retake(*, shot: Shot, actor=None, note: str = "", actor_label: str = "") -> Shot:
    """重拍: this frame is not used. An accepted one reopens its ticket and the station keeps the
    student, so the next frame binds to them again."""
    _require(actor, shot, "station.operate")
    with transaction.atomic():
        shot.refresh_from_db()
        was = shot.state
        shot = shot_transition(shot=shot, to=ShotState.REJECTED, actor=actor, actor_label=actor_label, note=note,
                               decided_by=actor if getattr(actor, "is_authenticated", False) else None,
                               decided_at=timezone.now())
        if shot.ticket_id:
            ticket = shot.ticket
            if was in ACCEPTED_STATES and ticket.state == TicketState.DONE:
                ticket_transition(ticket=ticket, to=TicketState.AT_CAMERA, actor=actor, actor_label=actor_label,
                                  note="retake")
            ticket.refresh_from_db()
            if ticket.state in (TicketState.CALLED, TicketState.AT_CAMERA):
                station_bind_ticket(station=shot.station, ticket=ticket, actor=actor, actor_label=actor_label)
    return shot


def shot_set_aside(*, shot: Shot, actor=None, note: str, actor_label: str = "") -> Shot:
    """An accepted photo is not to be used after all, found later (a correction at proofreading, 勘误):
    the student goes back on the make-up list. Unlike :func:`shot_retake` at the camera, the ticket of
    the shoot day stays done and no station is bound to the student (the next frame at that station
    is someone else's)."""
    _require(actor, shot, "station.operate")
    _require_state(shot, *ACCEPTED_STATES, code="shot.not_accepted", zh="只能作废已采用的照片",
                   en="Only an accepted photo can be set aside")
    return shot_transition(shot=shot, to=ShotState.REJECTED, actor=actor, actor_label=actor_label, note=note,
                           decided_by=actor if getattr(actor, "is_authenticated", False) else None,
                           decided_at=timezone.now())


def shot_reassign(*, shot: Shot, ticket: Ticket, actor=None, actor_label: str = "", note: str = "") -> Shot:
    """Bind an unmatched (or wrongly bound, not yet decided) frame to ``ticket``."""
    _require(actor, shot, "station.operate")
    if ticket.campaign_id != shot.campaign_id:
        raise TucaiError("shot.ticket_other_campaign", "排队号属于其他采集活动",
                         "The ticket belongs to another campaign")
    _require_state(shot, ShotState.UNMATCHED, ShotState.CHECKED, ShotState.RECEIVED, code="shot.not_reassignable",
                   zh="已处理的照片不能重新分配", en="A decided shot cannot be reassigned")
    if shot.state == ShotState.RECEIVED:
        raise TucaiError("shot.check_pending", "照片正在检测，请稍后再分配", "The shot is still being checked")
    to = ShotState.CHECKED if shot.verdict else ShotState.RECEIVED
    shot = shot_transition(shot=shot, to=to, actor=actor, actor_label=actor_label, note=note or "reassign",
                           ticket=ticket, student=ticket.student, capture_token=_ticket_token(ticket))
    if not shot.verdict:
        shot_check_enqueue(shot=shot)
        shot.refresh_from_db()
    return shot


def shot_recheck_pending(*, station: Station | None = None, campaign=None) -> int:
    """Run the check again for shots whose verdict never landed (a crash or kill mid-check)."""
    from tucai.stations.selectors import shot_pending_checks

    n = 0
    for shot in shot_pending_checks(station=station, campaign=campaign):
        shot_check_enqueue(shot=shot)
        n += 1
    return n
