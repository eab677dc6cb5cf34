"""Check-in at the desk: resolve the scanned code, issue the room's next 拍摄序号, record the scan.

Numbers: one ``TicketCounter`` row per (campaign, room, day) is locked (SELECT … FOR UPDATE) and the
ticket is created in the same transaction, so two desks never get the same number and a rolled-back
check-in leaves no gap (the counter moves only with a ticket). On SQLite the IMMEDIATE transaction
mode in settings serialises writers instead. Idempotent: the student's ticket for the day is
unique (a repeat scan returns it) and so is the desk's nonce (a retried POST returns the first answer)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tucai.campaigns.models import Student, StudentStatus
from tucai.capture.models import CheckinScan, CodeKind, ScanResult, Ticket, TicketCounter, TicketState
from tucai.capture.services.codes import CodeResolution, code_resolve
from tucai.core.errors import TucaiError
from tucai.fees.models import PaymentState
from tucai.fees.money import fee_is_paid

# Reason codes a desk shows for a refused scan (stable: tests, logs and the JSON API use them).
REASONS: dict[str, tuple[str, str]] = {
    "code.unknown": ("无法识别的采集码（外部码可绑定到学生）", "Unknown code (a foreign code can be bound to a student)"),
    "code.forged": ("采集码无效：签名不符（伪造或篡改）", "Invalid code: signature mismatch (forged or tampered)"),
    "code.revoked": ("采集码已作废，请使用新发放的采集码", "This code was revoked; use the newly issued one"),
    "code.other_campaign": ("采集码属于其他采集活动", "The code belongs to another campaign"),
    "student.already_photographed": ("该学生已完成拍摄", "This student has already been photographed"),
    "student.inactive": ("该学生已移出名单", "This student is no longer on the roster"),
}

# How early a student may check in before their slot without a warning.
EARLY_GRACE = dt.timedelta(minutes=30)


def student_paid_status(student: Student) -> bool | None:
    """Whether the student's fee is paid (the fee ledger, ``tucai.fees``). The desk's check-in reads it
    in its one lookup query and leaves it on the student (``_paid``); other paths ask the ledger."""
    cached = getattr(student, "_paid", None)
    if cached is not None:
        return cached
    from tucai.fees.selectors import student_paid_status as ledger_paid

    return ledger_paid(student=student)


@dataclass
class CheckinOutcome:
    result: str  # ScanResult
    reason: str = ""
    student: Student | None = None
    ticket: Ticket | None = None
    scan: CheckinScan | None = None
    warnings: list[dict] = field(default_factory=list)
    replayed: bool = False  # the same nonce was submitted before: this is that first answer

    @property
    def ok(self) -> bool:
        return self.result in (ScanResult.ISSUED, ScanResult.REPEAT)

    @property
    def message(self) -> str:
        from django.utils import translation

        en = (translation.get_language() or "").startswith("en")
        if self.reason in REASONS:
            return REASONS[self.reason][1 if en else 0]
        if self.result == ScanResult.REPEAT:
            return "Already checked in today: same number" if en else "今日已签到，沿用原序号"
        if self.result == ScanResult.ISSUED:
            return "Number issued" if en else "已发放拍摄序号"
        return self.reason


def slot_warnings(*, student: Student, room, date: dt.date, now: dt.datetime | None = None) -> list[dict]:
    """Warnings for the desk: no slot, wrong room, wrong day, early or late for the slot."""
    try:
        slot = student.school_class.assignment.slot
    except ObjectDoesNotExist:  # the class has no slot assignment
        return [{"code": "slot.none", "message": "该班级未安排拍摄时段"}]
    out = []
    if slot.room_id != room.pk:
        out.append({"code": "slot.wrong_room", "message": f"应在 {slot.room} 拍摄，不是本室"})
    if slot.date != date:
        out.append({"code": "slot.wrong_day", "message": f"安排在 {slot.date:%Y-%m-%d}，不是今天"})
    else:
        local = timezone.localtime(now or timezone.now())
        if local.date() == date:
            start = dt.datetime.combine(date, slot.start, tzinfo=local.tzinfo)
            end = dt.datetime.combine(date, slot.end, tzinfo=local.tzinfo)
            if local > end:
                out.append({"code": "slot.late", "message": f"迟到：时段 {slot.start:%H:%M}–{slot.end:%H:%M} 已结束"})
            elif local < start - EARLY_GRACE:
                out.append({"code": "slot.early", "message": f"过早：时段 {slot.start:%H:%M}–{slot.end:%H:%M}"})
    return out


# SQLite allows one writer; a second one waits in SQLite's busy handler, which sleeps in growing
# steps (up to 100 ms) and makes the latency tail long. Threads of one server process queue on a
# Python lock instead and wake at once. (Other processes still meet the busy handler.)
_SQLITE_WRITE_LOCK = threading.Lock()


def _writer():
    return _SQLITE_WRITE_LOCK if connection.vendor == "sqlite" else contextlib.nullcontext()


def _fetchone(sql: str, params: dict):
    """Run one of this module's fixed statements and return its first row.

    On PostgreSQL with a server-side-binding cursor and ``prepare=True``: the statement is parsed
    and planned once per connection and then only executed (the joins of the desk look-up cost
    more to plan than to run). Errors are wrapped like Django's (IntegrityError etc.)."""
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        raw = connection.connection
        if raw.prepare_threshold is None:
            # Django turns psycopg's statement preparation off (OPTIONS "prepare_threshold"); with a
            # threshold that is never reached only statements run with prepare=True (these) are
            # prepared. Django's own queries use client-side binding and are never prepared.
            raw.prepare_threshold = 2**31 - 1
        start = time.monotonic()
        try:
            with connection.wrap_database_errors:
                with psycopg.Cursor(raw) as cursor:
                    # Binary results: ints, dates and timestamps load without text parsing.
                    cursor.execute(sql, params, prepare=True, binary=True)
                    return cursor.fetchone()
        finally:
            if connection.queries_logged:  # seen by CaptureQueriesContext / DEBUG like any other query
                connection.queries_log.append({"sql": "/* prepared */ " + sql.strip(),
                                               "time": f"{time.monotonic() - start:.3f}"})
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _one_statement():
    """A single INSERT is atomic by itself in autocommit (no BEGIN/COMMIT round trips); inside a
    caller's transaction it gets a savepoint, so a unique-constraint conflict can be answered."""
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


def _outcome_from_scan(scan: CheckinScan, *, replayed: bool) -> CheckinOutcome:
    return CheckinOutcome(result=scan.result, reason=scan.reason, student=scan.student, ticket=scan.ticket,
                          scan=scan, warnings=list(scan.warnings or []), replayed=replayed)


def _refuse_nul(*values: str | None) -> None:
    """PostgreSQL text cannot hold NUL (the insert would fail with a 500): refuse it as bad input."""
    if any(v and "\x00" in v for v in values):
        raise TucaiError("checkin.bad_request", "请求中含有非法字符（NUL）", "The request contains a NUL character")


def _replay(nonce: str | None, *, campaign_id: int, room_id: int, date: dt.date) -> CheckinOutcome | None:
    """The answer already given to this nonce at this campaign, room and day. A nonce recorded elsewhere
    (another desk's, another campaign's) is refused, never answered: its scan is not this desk's to see."""
    if not nonce:
        return None
    scan = (CheckinScan.objects.select_related("ticket", "ticket__room", "student",
                                               "student__school_class__assignment__slot__room")
            .filter(nonce=nonce).first())
    if scan is None:
        return None
    if (scan.campaign_id, scan.room_id, scan.date) != (campaign_id, room_id, date):
        raise TucaiError("checkin.bad_nonce", "提交标识已被其他签到台使用，请刷新页面后重试",
                         "This submission id was used by another desk: reload the page and retry")
    return _outcome_from_scan(scan, replayed=True)


def checkin_perform(*, campaign, room, date: dt.date, raw_code: str | None = None, student: Student | None = None,
                    nonce: str | None = None, actor=None, actor_label: str = "", desk: str = "",
                    now: dt.datetime | None = None) -> CheckinOutcome:
    """Check a student in at a desk of ``room`` on ``date`` and return the outcome (issued / repeat / refused).

    Give either ``raw_code`` (the scanned text) or ``student`` (manual look-up, logged as such)."""
    nonce = (nonce or "").strip() or None
    if nonce is not None and len(nonce) > 64:
        raise TucaiError("checkin.bad_nonce", "提交标识过长", "The nonce is too long (max 64 characters)")
    _refuse_nul(raw_code, nonce, desk)
    if (raw_code is None) == (student is None):
        raise TucaiError("checkin.bad_input", "请扫码或选择学生（二选一）", "Give either a scanned code or a student")
    if room.institution_id != campaign.institution_id:
        raise TucaiError("checkin.bad_room", "拍摄室不属于该院校", "The room does not belong to this institution")
    # No look-up of the nonce first: every path below inserts the scan with it, and the unique
    # constraint turns a retried submission into an IntegrityError answered with the first outcome.
    if student is not None:
        resolution = CodeResolution(raw="", kind=CodeKind.MANUAL, student=student,
                                    reason="" if student.campaign_id == campaign.pk else "code.other_campaign")
        if resolution.reason:
            resolution.student = None
    else:
        resolution = code_resolve(campaign=campaign, raw_code=raw_code or "")
    who = resolution.student

    scan_fields = dict(campaign=campaign, room=room, date=date, raw_code=resolution.raw[:4000],
                       code_kind=resolution.kind, desk=desk[:40], nonce=nonce,
                       actor=actor if getattr(actor, "is_authenticated", False) else None,
                       actor_label=actor_label[:100])

    if who is None or who.status != StudentStatus.ACTIVE:
        reason = resolution.reason or "student.inactive"
        return _record_refusal(scan_fields, student=who, reason=reason)

    warnings = slot_warnings(student=who, room=room, date=date, now=now)
    for _attempt in range(3):
        try:
            return _allocate(scan_fields, student=who, campaign=campaign, room=room, date=date,
                             raw=resolution.raw, warnings=warnings)
        except IntegrityError:
            # Either the same nonce committed first (return that answer) or the same student was
            # checked in at another desk at the same moment (the next attempt finds the ticket).
            replay = _replay(nonce, campaign_id=campaign.pk, room_id=room.pk, date=date)
            if replay is not None:
                return replay
    raise TucaiError("checkin.conflict", "签到冲突，请重试", "Check-in conflicted repeatedly; try again")


def _record_refusal(scan_fields: dict, *, student, reason: str) -> CheckinOutcome:
    try:
        with _writer(), _one_statement():
            scan = CheckinScan.objects.create(student=student, result=ScanResult.REFUSED, reason=reason,
                                              **scan_fields)
    except IntegrityError:
        replay = _replay(scan_fields["nonce"], campaign_id=scan_fields["campaign"].pk,
                         room_id=scan_fields["room"].pk, date=scan_fields["date"])
        if replay is not None:
            return replay
        raise
    return CheckinOutcome(result=ScanResult.REFUSED, reason=reason, student=student, scan=scan)


def _allocate(scan_fields: dict, *, student, campaign, room, date, raw: str, warnings: list,
              known: tuple[Ticket | None, bool] | None = None) -> CheckinOutcome:
    """``known``: (today's ticket, whether any ticket of the campaign is done) when the caller has
    already read them (the desk-token path joins them into its look-up)."""
    if known is not None:
        existing, any_done = known
    else:
        # One query for the student's tickets in this campaign: today's (a repeat) and any finished one.
        tickets = list(Ticket.objects.select_related("room").filter(campaign=campaign, student=student).order_by())
        existing = next((t for t in tickets if t.date == date), None)
        any_done = any(t.state == TicketState.DONE for t in tickets)
    if existing is None and any_done:
        return _record_refusal(scan_fields, student=student, reason="student.already_photographed")
    if existing is not None:
        if existing.state == TicketState.DONE:
            return _record_refusal(scan_fields, student=student, reason="student.already_photographed")
        if existing.room_id != room.pk:
            warnings = warnings + [{"code": "ticket.other_room",
                                    "message": f"今日已在 {existing.room} 取号 {existing.number}"}]
        with _writer(), _one_statement():
            scan = CheckinScan.objects.create(student=student, ticket=existing, result=ScanResult.REPEAT,
                                              warnings=warnings, **scan_fields)
        return CheckinOutcome(result=ScanResult.REPEAT, student=student, ticket=existing, scan=scan,
                              warnings=warnings)

    if connection.vendor == "postgresql":
        return _allocate_pg(scan_fields, student=student, campaign=campaign, room=room, date=date, raw=raw,
                            warnings=warnings)
    if connection.vendor == "sqlite":
        return _allocate_sqlite(scan_fields, student=student, campaign=campaign, room=room, date=date, raw=raw,
                                warnings=warnings)
    with _writer(), transaction.atomic():
        counter, _ = TicketCounter.objects.select_for_update().get_or_create(campaign=campaign, room=room, date=date)
        number = counter.last_number + 1
        back = max(number, counter.last_queue_order + 1)
        ticket = Ticket.objects.create(campaign=campaign, room=room, date=date, number=number, student=student,
                                       state=TicketState.WAITING, queue_order=back, raw_code=raw)
        TicketCounter.objects.filter(pk=counter.pk).update(last_number=number, last_queue_order=back)
        scan = CheckinScan.objects.create(student=student, ticket=ticket, result=ScanResult.ISSUED,
                                          warnings=warnings, **scan_fields)
    ticket.room = room
    return CheckinOutcome(result=ScanResult.ISSUED, student=student, ticket=ticket, scan=scan, warnings=warnings)


# PostgreSQL: the same allocation as one statement (one round trip instead of six ORM calls). The
# upsert on the counter row takes its row lock, so desks of one room queue on it exactly like
# SELECT … FOR UPDATE; if the ticket insert fails (the student was checked in at another desk at
# that moment) the whole statement fails and the counter increment goes with it: no gap.
_ALLOCATE_SQL = """
WITH c AS (
    INSERT INTO {counter} (campaign_id, room_id, date, last_number, last_queue_order)
    VALUES (%(campaign)s, %(room)s, %(date)s, 1, 1)
    ON CONFLICT (campaign_id, room_id, date) DO UPDATE
        SET last_number = {counter}.last_number + 1,
            last_queue_order = GREATEST({counter}.last_number + 1, {counter}.last_queue_order + 1)
    RETURNING last_number, last_queue_order
), t AS (
    INSERT INTO {ticket} (campaign_id, room_id, date, number, student_id, state, queue_order, requeue_count,
                          checked_in_at, updated_at, raw_code)
    SELECT %(campaign)s, %(room)s, %(date)s, c.last_number, %(student)s, %(state)s, c.last_queue_order,
           0, %(now)s, %(now)s, %(raw)s
    FROM c
    RETURNING id, number, queue_order
), s AS (
    INSERT INTO {scan} (campaign_id, room_id, date, raw_code, code_kind, student_id, ticket_id, result, reason,
                        warnings, desk, actor_id, actor_label, nonce, created_at)
    SELECT %(campaign)s, %(room)s, %(date)s, %(raw_code)s, %(kind)s, %(student)s, t.id, %(result)s, '',
           %(warnings)s::jsonb, %(desk)s, %(actor)s, %(actor_label)s, %(nonce)s, %(now)s
    FROM t
    RETURNING id, ticket_id
)
SELECT s.id, t.id, t.number, t.queue_order FROM s JOIN t ON t.id = s.ticket_id
"""


def _allocate_pg(scan_fields: dict, *, student, campaign, room, date, raw: str, warnings: list) -> CheckinOutcome:
    sql = _ALLOCATE_SQL.format(counter=TicketCounter._meta.db_table, ticket=Ticket._meta.db_table,
                               scan=CheckinScan._meta.db_table)
    now = timezone.now()
    actor = scan_fields["actor"]
    params = {
        "campaign": campaign.pk, "room": room.pk, "date": date, "student": student.pk, "state": TicketState.WAITING,
        "now": now, "raw": raw, "raw_code": scan_fields["raw_code"], "kind": scan_fields["code_kind"],
        "result": ScanResult.ISSUED, "warnings": json.dumps(warnings, ensure_ascii=False), "desk": scan_fields["desk"],
        "actor": actor.pk if actor is not None else None, "actor_label": scan_fields["actor_label"],
        "nonce": scan_fields["nonce"],
    }
    # Autocommit: the single statement is its own transaction (saves the BEGIN/COMMIT round trips);
    # inside a caller's transaction (tests, batch jobs) a savepoint, so a conflict can be retried.
    with _one_statement():
        scan_id, ticket_id, number, queue_order = _fetchone(sql, params)
    return _issued(scan_fields, student=student, campaign=campaign, room=room, date=date, raw=raw, warnings=warnings,
                   now=now, scan_id=scan_id, ticket_id=ticket_id, number=number, queue_order=queue_order)


def _issued(scan_fields: dict, *, student, campaign, room, date, raw: str, warnings: list, now, scan_id: int,
            ticket_id: int, number: int, queue_order: int) -> CheckinOutcome:
    # The rows as they were written, without reading them back.
    actor = scan_fields["actor"]
    ticket = Ticket(pk=ticket_id, campaign=campaign, room=room, date=date, number=number, student=student,
                    state=TicketState.WAITING, queue_order=queue_order, requeue_count=0, checked_in_at=now,
                    updated_at=now, raw_code=raw)
    ticket._state.adding = False
    scan = CheckinScan(pk=scan_id, campaign=campaign, room=room, date=date, raw_code=scan_fields["raw_code"],
                       code_kind=scan_fields["code_kind"], student=student, ticket=ticket, result=ScanResult.ISSUED,
                       warnings=warnings, desk=scan_fields["desk"], actor=actor,
                       actor_label=scan_fields["actor_label"], nonce=scan_fields["nonce"], created_at=now)
    scan._state.adding = False
    return CheckinOutcome(result=ScanResult.ISSUED, student=student, ticket=ticket, scan=scan, warnings=warnings)


# SQLite (no INSERT inside WITH): the same three writes as three statements in one IMMEDIATE
# transaction, which holds the database's write lock from its start — so the counter, the ticket
# and the scan move together, and a failed ticket insert (the student checked in elsewhere this
# instant) rolls the counter back: no gap.
_SQLITE_COUNTER_SQL = """
INSERT INTO {counter} (campaign_id, room_id, date, last_number, last_queue_order) VALUES (%s, %s, %s, 1, 1)
ON CONFLICT (campaign_id, room_id, date) DO UPDATE
    SET last_number = last_number + 1, last_queue_order = MAX(last_number + 1, last_queue_order + 1)
RETURNING last_number, last_queue_order
"""
_SQLITE_TICKET_SQL = """
INSERT INTO {ticket} (campaign_id, room_id, date, number, student_id, state, queue_order, requeue_count,
                      checked_in_at, updated_at, raw_code)
VALUES (%s, %s, %s, %s, %s, %s, %s, 0, %s, %s, %s)
RETURNING id, queue_order
"""
_SQLITE_SCAN_SQL = """
INSERT INTO {scan} (campaign_id, room_id, date, raw_code, code_kind, student_id, ticket_id, result, reason,
                    warnings, desk, actor_id, actor_label, nonce, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '', %s, %s, %s, %s, %s, %s)
RETURNING id
"""


def _allocate_sqlite(scan_fields: dict, *, student, campaign, room, date, raw: str, warnings: list) -> CheckinOutcome:
    tables = {"counter": TicketCounter._meta.db_table, "ticket": Ticket._meta.db_table,
              "scan": CheckinScan._meta.db_table}
    now = timezone.now()
    ops = connection.ops
    day, at = ops.adapt_datefield_value(date), ops.adapt_datetimefield_value(now)
    actor = scan_fields["actor"]
    with _writer(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SQLITE_COUNTER_SQL.format(**tables), [campaign.pk, room.pk, day])
        number, back = cursor.fetchone()
        cursor.execute(_SQLITE_TICKET_SQL.format(**tables),
                       [campaign.pk, room.pk, day, number, student.pk, TicketState.WAITING.value, back, at, at, raw])
        ticket_id, queue_order = cursor.fetchone()
        cursor.execute(_SQLITE_SCAN_SQL.format(**tables),
                       [campaign.pk, room.pk, day, scan_fields["raw_code"], scan_fields["code_kind"], student.pk,
                        ticket_id, ScanResult.ISSUED.value, json.dumps(warnings, ensure_ascii=False),
                        scan_fields["desk"], actor.pk if actor is not None else None, scan_fields["actor_label"],
                        scan_fields["nonce"], at])
        (scan_id,) = cursor.fetchone()
    return _issued(scan_fields, student=student, campaign=campaign, room=room, date=date, raw=raw, warnings=warnings,
                   now=now, scan_id=scan_id, ticket_id=ticket_id, number=number, queue_order=queue_order)


# --- the desk-token path: one query resolves the desk, the code, the student and today's ticket ---

class DeskRefused(TucaiError):
    """The desk token is revoked or expired, or its operator may no longer check students in."""


def _cols(model, alias: str) -> list[str]:
    return [f'{alias}."{f.column}"' for f in model._meta.concrete_fields]


def _lookup_sql() -> str:
    from tucai.accounts.models import Membership, User
    from tucai.campaigns.models import Campaign, Room, SchoolClass, SlotAssignment, TimeSlot
    from tucai.capture.models import CaptureCode, DeskToken
    from tucai.fees.models import Payment, PaymentLine

    t = lambda m: m._meta.db_table  # noqa: E731
    select = ", ".join([*_cols(CaptureCode, "cc"), *_cols(Student, "s"), *_cols(SchoolClass, "sc"),
                        *_cols(SlotAssignment, "a"), *_cols(TimeSlot, "sl"), *_cols(Room, "sr"),
                        *_cols(Ticket, "tk"), *_cols(Room, "dr")])
    full_roles, roles = _in(_roles_with("student.view_full_id")), _in(_roles_with("checkin.perform"))
    # access: 0 = refused, 1 = may check in (IDs masked), 2 = may also see full ID numbers.
    # Joins rather than subqueries: each scanned relation costs executor start-up per execution.
    return f"""
SELECT
  CASE WHEN u.id IS NULL THEN 0 WHEN u.is_superuser THEN 2
       ELSE COALESCE((SELECT MAX(CASE WHEN m.role IN {full_roles} THEN 2 WHEN m.role IN {roles} THEN 1 ELSE 0 END)
                      FROM {t(Membership)} m WHERE m.user_id = u.id AND m.institution_id = dr.institution_id), 0)
  END,
  d.user_id, d.desk,
  EXISTS (SELECT 1 FROM {t(Ticket)} td WHERE td.campaign_id = %(campaign)s AND td.student_id = %(student)s
          AND td.state = %(done)s),
  -- paid or not, for the desk: the campaign's fee and what the ledger holds for the student
  (SELECT cp.fee_per_student_fen FROM {t(Campaign)} cp WHERE cp.id = %(campaign)s),
  (SELECT COALESCE(SUM(pl.amount_fen), 0) FROM {t(PaymentLine)} pl JOIN {t(Payment)} py ON py.id = pl.payment_id
    WHERE pl.student_id = %(student)s AND py.campaign_id = %(campaign)s AND py.state = %(recorded)s),
  {select}
FROM {t(Room)} dr
LEFT JOIN {t(DeskToken)} d ON d.id = %(desk)s AND d.campaign_id = %(campaign)s AND d.room_id = dr.id
                           AND d.date = %(date)s AND d.revoked_at IS NULL AND d.expires_at > %(now)s
LEFT JOIN {t(User)} u ON u.id = d.user_id AND u.is_active
LEFT JOIN {t(CaptureCode)} cc ON cc.student_id = %(student)s AND cc.version = %(version)s
                             AND cc.campaign_id = %(campaign)s
LEFT JOIN {t(Student)} s ON s.id = cc.student_id
LEFT JOIN {t(SchoolClass)} sc ON sc.id = s.school_class_id
LEFT JOIN {t(SlotAssignment)} a ON a.school_class_id = sc.id
LEFT JOIN {t(TimeSlot)} sl ON sl.id = a.slot_id
LEFT JOIN {t(Room)} sr ON sr.id = sl.room_id
LEFT JOIN {t(Ticket)} tk ON tk.campaign_id = %(campaign)s AND tk.student_id = cc.student_id AND tk.date = %(date)s
WHERE dr.id = %(room)s
"""


_LOOKUP: dict[str, tuple[str, list]] = {}


def _lookup_plan() -> tuple[str, list]:
    """The SQL and, per joined model, its fields with the converters Django would apply (built once)."""
    vendor = connection.vendor
    if vendor not in _LOOKUP:
        from tucai.campaigns.models import Room, SchoolClass, SlotAssignment, TimeSlot
        from tucai.capture.models import CaptureCode

        models_ = [CaptureCode, Student, SchoolClass, SlotAssignment, TimeSlot, Room, Ticket, Room]
        plan = []
        for model in models_:
            fields = model._meta.concrete_fields
            convs = []
            for f in fields:
                col = f.get_col(model._meta.db_table)
                convs.append(connection.ops.get_db_converters(col) + f.get_db_converters(connection))
            plan.append((model, [f.attname for f in fields], convs, col))
        _LOOKUP[vendor] = (_lookup_sql(), plan)
    return _LOOKUP[vendor]


def _instances(row, plan) -> list:
    out, pos = [], 0
    for model, names, convs, expr in plan:
        values = list(row[pos:pos + len(names)])
        pos += len(names)
        if values[0] is None:  # the LEFT JOIN found nothing
            out.append(None)
            continue
        for i, cs in enumerate(convs):
            for conv in cs:
                values[i] = conv(values[i], expr, connection)
        out.append(model.from_db(connection.alias, names, values))
    return out


def _in(values: tuple[str, ...]) -> str:
    """An SQL list of role names (constants of the code, checked: no user input reaches it)."""
    if not all(v.replace("_", "").isalnum() for v in values if v):
        raise ValueError(f"unexpected role names {values!r}")
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _roles_with(perm: str) -> tuple[str, ...]:
    from tucai.accounts.selectors import PERMISSIONS

    return tuple(sorted(r for r, perms in PERMISSIONS.items() if perm in perms)) or ("",)


@dataclass
class DeskCheckin:
    outcome: CheckinOutcome
    full_id: bool  # the operator may see whole ID numbers
    room: object


def checkin_perform_desk(*, claims, raw_code: str | None = None, student_id: int | None = None,
                         nonce: str | None = None, now: dt.datetime | None = None) -> DeskCheckin:
    """Check-in from a desk holding a verified desk token (``services.desk.desk_token_parse``).

    Same rules and records as :func:`checkin_perform`, for the campaign, room and day the token is
    bound to. A tucai code takes two round trips: one query answers whether the desk token is still
    valid (not revoked or expired, operator active with ``checkin.perform``) and resolves the code
    to the student, class, slot and today's ticket; one statement then allocates the number and
    records the scan (or records the repeat/refusal). Foreign codes and manual look-ups go the
    general way after the same desk check. Raises :class:`DeskRefused` when the desk is not valid.
    Scans carry the desk name the token was issued with: what a request says of itself cannot
    rename the desk in the record (the page asks for a new token when its name is changed)."""
    from tucai.accounts.models import User
    from tucai.campaigns.models import Campaign
    from tucai.capture.services.codes import code_token_looks_ours, code_token_parse

    nonce = (nonce or "").strip() or None
    if nonce is not None and len(nonce) > 64:
        raise TucaiError("checkin.bad_nonce", "提交标识过长", "The nonce is too long (max 64 characters)")
    _refuse_nul(raw_code, nonce)
    if (raw_code is None) == (student_id is None):
        raise TucaiError("checkin.bad_input", "请扫码或选择学生（二选一）", "Give either a scanned code or a student")
    raw = (raw_code or "").strip()
    parsed, reason = None, ""
    if raw and code_token_looks_ours(raw):
        try:
            parsed = code_token_parse(raw)
        except TucaiError as exc:
            reason = exc.code
        else:
            if parsed.campaign_id != claims.campaign_id:
                reason, parsed = "code.other_campaign", None
    sql, plan = _lookup_plan()
    params = {"desk": claims.token_id, "campaign": claims.campaign_id, "room": claims.room_id,
              "date": connection.ops.adapt_datefield_value(claims.date),
              "now": connection.ops.adapt_datetimefield_value(now or timezone.now()), "done": TicketState.DONE.value,
              "student": parsed.student_id if parsed else None, "version": parsed.version if parsed else None,
              "recorded": PaymentState.RECORDED.value}
    row = _fetchone(sql, params)
    access = row[0] if row is not None else None
    if not access:
        raise DeskRefused("desk.token_revoked", "签到台令牌已作废、过期或无签到权限，请重新打开签到台页面",
                          "The desk token is revoked or expired, or its operator may not check in")
    user_id, desk_label, any_done = row[1], (row[2] or "")[:40], bool(row[3])
    fee_fen, paid_fen = row[4], int(row[5] or 0)
    code, student, school_class, assignment, slot, slot_room, today, room = _instances(row[6:], plan)
    if student is not None:
        student._paid = fee_is_paid(fee_fen=fee_fen or 0, paid_fen=paid_fen)
    if today is not None and today.room_id == room.pk:
        today.room = room
    actor = User(pk=user_id)
    actor._state.adding = False
    campaign = Campaign(pk=claims.campaign_id, institution_id=room.institution_id)
    campaign._state.adding = False
    out = lambda o: DeskCheckin(outcome=o, full_id=access == 2, room=room)  # noqa: E731

    if parsed is None and not reason:
        # A foreign code or a manual look-up: the general path (rare at a busy desk).
        manual = None
        if student_id is not None:
            manual = Student.objects.select_related("school_class__assignment__slot__room").filter(
                pk=student_id, campaign_id=claims.campaign_id).first()
            if manual is None:
                raise TucaiError("checkin.bad_student", "没有这个学生", "No such student in this campaign")
        return out(checkin_perform(campaign=campaign, room=room, date=claims.date,
                                   raw_code=None if manual else raw, student=manual, nonce=nonce, actor=actor,
                                   desk=desk_label))

    scan_fields = dict(campaign=campaign, room=room, date=claims.date, raw_code=raw[:4000], code_kind=CodeKind.TUCAI,
                       desk=desk_label, nonce=nonce, actor=actor, actor_label="")
    if parsed is not None and code is None:
        reason = "code.unknown"  # signed with our key but never recorded
    elif code is not None and code.revoked_at is not None:
        reason = "code.revoked"
    if reason:
        return out(_record_refusal(scan_fields, student=None, reason=reason))
    # Attach what was joined, so the desk's answer needs no further query.
    if assignment is not None:
        slot.room = slot_room if slot_room is not None else room
        assignment.slot = slot
    SchoolClass = type(school_class)
    SchoolClass._meta.get_field("assignment").set_cached_value(school_class, assignment)
    student.school_class = school_class
    if student.status != StudentStatus.ACTIVE:
        return out(_record_refusal(scan_fields, student=student, reason="student.inactive"))
    warnings = slot_warnings(student=student, room=room, date=claims.date, now=now)
    try:
        return out(_allocate(scan_fields, student=student, campaign=campaign, room=room, date=claims.date, raw=raw,
                             warnings=warnings, known=(today, any_done)))
    except IntegrityError:
        # A retried submission (same nonce): its first answer. Or the student was checked in at
        # another desk this instant: the general path reads the tickets again (a repeat).
        replay = _replay(nonce, campaign_id=claims.campaign_id, room_id=claims.room_id, date=claims.date)
        if replay is not None:
            return out(replay)
        return out(checkin_perform(campaign=campaign, room=room, date=claims.date, raw_code=raw, nonce=nonce,
                                   actor=actor, desk=desk_label))
