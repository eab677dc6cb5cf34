"""Schedule planner: which class is shot in which time slot (and so which room), in what order.

Two layers, so the arithmetic can be tested without a database:

* :func:`plan_compute` — a pure function from plain data (:class:`PlanInput`) to a :class:`Plan`
  (placements plus warnings for whatever cannot fit).
* the services that read a campaign into that data (:func:`schedule_plan`), write a plan
  (:func:`schedule_apply`, atomic and audited) and make manual edits with conflict checks
  (:func:`schedule_assign`, :func:`schedule_unassign`).

Capacity of a slot = slot seconds × the room's stations ÷ seconds per student (the notice plans about
20 s per student). Classes are kept whole: a class is shot in one slot, never split.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Q

from tucai.audit.services import audit_record
from tucai.campaigns.models import (
    Campaign,
    DepartmentRoom,
    SchoolClass,
    SlotAssignment,
    StudentStatus,
    TimeSlot,
)
from tucai.core.errors import TucaiError

# --- plain data -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PlanRoom:
    id: int
    label: str
    stations: int = 1


@dataclasses.dataclass(frozen=True)
class PlanSlot:
    id: int
    room_id: int
    date: dt.date
    start: dt.time
    end: dt.time

    @property
    def seconds(self) -> int:
        return (self.end.hour * 3600 + self.end.minute * 60 + self.end.second) - (
            self.start.hour * 3600 + self.start.minute * 60 + self.start.second)


@dataclasses.dataclass(frozen=True)
class PlanClass:
    id: int
    name: str
    department_id: int
    department_name: str
    size: int


@dataclasses.dataclass(frozen=True)
class PlanInput:
    rooms: tuple[PlanRoom, ...]
    slots: tuple[PlanSlot, ...]
    classes: tuple[PlanClass, ...]
    department_rooms: dict[int, int]          # department id -> the room its classes must use
    seconds_per_student: int = 20


@dataclasses.dataclass(frozen=True)
class Placement:
    class_id: int
    slot_id: int
    position: int


@dataclasses.dataclass(frozen=True)
class PlanWarning:
    code: str
    message_zh: str
    message_en: str
    class_id: int | None = None
    slot_id: int | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Plan:
    placements: list[Placement]
    warnings: list[PlanWarning]
    capacity: dict[int, int]                  # slot id -> students it can take
    load: dict[int, int]                      # slot id -> students placed

    @property
    def unplaced_class_ids(self) -> list[int]:
        return [w.class_id for w in self.warnings if w.class_id is not None and w.code != "schedule.empty_class"]


def slot_capacity(*, seconds: int, stations: int, seconds_per_student: int) -> int:
    """Students one slot can take: whole students only (a half-shot student is no student)."""
    if seconds_per_student <= 0:
        raise TucaiError("schedule.bad_seconds_per_student", "每人拍摄秒数必须大于 0",
                         "Seconds per student must be positive")
    return max(0, seconds) * max(0, stations) // seconds_per_student


def natural_key(text: str) -> tuple:
    """会计1212 before 会计12110: digits compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part)


# --- the pure planner -------------------------------------------------------------------------


def plan_compute(data: PlanInput) -> Plan:
    """Assign classes to slots: no slot over capacity, classes whole, departments in their rooms.

    Classes go in order (department as set up, then class name) and fill each room's slots
    chronologically ("next fit"), which keeps a department's classes together as in the notice.
    The fill is balanced: while the day has room to spare, each slot is filled only to about the
    room's overall load factor, so the day is spread evenly (as the notice does) instead of packing
    the morning and leaving the afternoon empty. If balancing would place fewer classes than
    packing, the packed plan is used. A class that no longer fits at the end of its room's day falls
    back to the earliest slot with room left. Anything that still cannot be placed is reported as a
    warning with its reason; nothing raises.
    """
    packed = _plan_pass(data, balanced=False)
    balanced = _plan_pass(data, balanced=True)
    return balanced if len(balanced.placements) >= len(packed.placements) else packed


def _plan_pass(data: PlanInput, *, balanced: bool) -> Plan:
    rooms = {r.id: r for r in data.rooms}
    slots_by_room: dict[int, list[PlanSlot]] = defaultdict(list)
    for s in sorted(data.slots, key=lambda s: (s.date, s.start, s.room_id)):
        if s.room_id in rooms:
            slots_by_room[s.room_id].append(s)
    capacity = {
        s.id: slot_capacity(seconds=s.seconds, stations=rooms[s.room_id].stations,
                            seconds_per_student=data.seconds_per_student)
        for room_slots in slots_by_room.values() for s in room_slots
    }
    # Soft limit per slot for the balanced pass: capacity × the room's load factor, plus half an
    # average class so next fit rounds to the nearest class rather than always down.
    limit = dict(capacity)
    sized = [c.size for c in data.classes if c.size > 0]
    if balanced and sized:
        total_cap = sum(capacity.values()) or 1
        overall = sum(sized) / total_cap
        for rid, room_slots in slots_by_room.items():
            room_cap = sum(capacity[s.id] for s in room_slots) or 1
            bound = sum(c.size for c in data.classes if c.size > 0 and data.department_rooms.get(c.department_id) == rid)
            factor = min(1.0, max(overall, bound / room_cap))
            for s in room_slots:
                limit[s.id] = min(capacity[s.id], int(capacity[s.id] * factor + sum(sized) / len(sized) / 2))
    load = {sid: 0 for sid in capacity}
    placed: dict[int, list[int]] = defaultdict(list)   # slot id -> class ids in order
    cursor: dict[int, int] = defaultdict(int)          # room id -> index of the slot being filled
    warnings: list[PlanWarning] = []

    def try_room(room_id: int, size: int) -> int | None:
        room_slots = slots_by_room.get(room_id, [])
        for i in range(cursor[room_id], len(room_slots)):          # next fit, keeps the order
            sid = room_slots[i].id
            if load[sid] + size <= limit[sid]:
                cursor[room_id] = i
                return sid
        # Fall back to the full capacity: later slots first (keeps the order), then earlier gaps.
        for s in room_slots[cursor[room_id]:] + room_slots[:cursor[room_id]]:
            if load[s.id] + size <= capacity[s.id]:
                return s.id
        return None

    def remaining(room_id: int) -> int:
        return sum(capacity[s.id] - load[s.id] for s in slots_by_room.get(room_id, []))

    # Departments in the order they were set up (the notice's order), then class names.
    ordered = sorted(data.classes, key=lambda c: (c.department_id, natural_key(c.name), c.id))
    # A department without a room constraint stays in one room where it can: the room with the
    # most capacity left when its first class comes up.
    free_room_for_department: dict[int, int] = {}
    for c in ordered:
        if c.size <= 0:
            warnings.append(PlanWarning(
                "schedule.empty_class", f"{c.name}：没有在册学生，未安排", f"{c.name}: no active students, not scheduled",
                class_id=c.id))
            continue
        room_id = data.department_rooms.get(c.department_id)
        if room_id is not None:
            if room_id not in rooms or not slots_by_room.get(room_id):
                warnings.append(PlanWarning(
                    "schedule.no_slot_for_room",
                    f"{c.name}：{c.department_name}指定的拍摄室没有时段", f"{c.name}: the room required for "
                    f"{c.department_name} has no time slots", class_id=c.id))
                continue
            candidates = [room_id]
        else:
            if not slots_by_room:
                warnings.append(PlanWarning("schedule.no_slots", f"{c.name}：没有任何时段",
                                            f"{c.name}: there are no time slots", class_id=c.id))
                continue
            first = free_room_for_department.setdefault(
                c.department_id, max(sorted(slots_by_room), key=remaining))
            candidates = [first] + sorted((r for r in slots_by_room if r != first), key=remaining, reverse=True)
        room_largest = max((capacity[s.id] for r in candidates for s in slots_by_room.get(r, [])), default=0)
        if c.size > room_largest:
            warnings.append(PlanWarning(
                "schedule.class_too_large",
                f"{c.name}：{c.size} 人，超过任何一个可用时段的容量（最多 {room_largest} 人），班级不能拆分",
                f"{c.name}: {c.size} students exceed the capacity of every usable slot (at most {room_largest}); "
                f"classes are not split", class_id=c.id))
            continue
        for rid in candidates:
            sid = try_room(rid, c.size)
            if sid is not None:
                placed[sid].append(c.id)
                load[sid] += c.size
                break
        else:
            left = sum(remaining(r) for r in candidates)
            warnings.append(PlanWarning(
                "schedule.no_capacity",
                f"{c.name}：{c.size} 人，可用时段剩余容量不足（合计剩余 {left} 人，但没有一个时段放得下整班）",
                f"{c.name}: {c.size} students do not fit in any usable slot ({left} places left in total, "
                f"none of them can take the whole class)", class_id=c.id))
    placements = [Placement(class_id=cid, slot_id=sid, position=i)
                  for sid, cids in placed.items() for i, cid in enumerate(cids)]
    placements.sort(key=lambda p: (p.slot_id, p.position))
    return Plan(placements=placements, warnings=warnings, capacity=capacity, load=load)


# --- reading a campaign -----------------------------------------------------------------------


def _active_sizes(campaign: Campaign) -> dict[int, int]:
    return dict(SchoolClass.objects.filter(campaign=campaign).annotate(
        n=Count("students", filter=Q(students__status=StudentStatus.ACTIVE))).values_list("id", "n"))


def schedule_input(*, campaign: Campaign, seconds_per_student: int | None = None) -> PlanInput:
    """The planner's plain data for ``campaign``: its slots, their rooms, classes with active sizes."""
    slots = list(TimeSlot.objects.filter(campaign=campaign).select_related("room"))
    rooms = {s.room_id: PlanRoom(id=s.room_id, label=str(s.room), stations=s.room.stations) for s in slots}
    for dr in DepartmentRoom.objects.filter(campaign=campaign).select_related("room"):
        rooms.setdefault(dr.room_id, PlanRoom(id=dr.room_id, label=str(dr.room), stations=dr.room.stations))
    sizes = _active_sizes(campaign)
    classes = tuple(
        PlanClass(id=c.id, name=c.name, department_id=c.department_id, department_name=c.department.name,
                  size=sizes.get(c.id, 0))
        for c in SchoolClass.objects.filter(campaign=campaign).select_related("department")
    )
    return PlanInput(
        rooms=tuple(rooms.values()),
        slots=tuple(PlanSlot(id=s.id, room_id=s.room_id, date=s.date, start=s.start, end=s.end) for s in slots),
        classes=classes,
        department_rooms=dict(DepartmentRoom.objects.filter(campaign=campaign).values_list("department_id", "room_id")),
        seconds_per_student=campaign.seconds_per_student if seconds_per_student is None else seconds_per_student,
    )


def schedule_plan(*, campaign: Campaign, seconds_per_student: int | None = None) -> Plan:
    """A fresh plan for ``campaign`` from its current rooms, slots, classes and constraints (writes nothing)."""
    return plan_compute(schedule_input(campaign=campaign, seconds_per_student=seconds_per_student))


def _capacity_of(slot: TimeSlot, campaign: Campaign) -> int:
    return slot_capacity(seconds=slot.seconds, stations=slot.room.stations,
                         seconds_per_student=campaign.seconds_per_student)


def schedule_overview(*, campaign: Campaign) -> dict:
    """The current schedule as plain data: slots (chronological, by room) with their classes in
    order, load and capacity, unassigned classes, and conflicts in what is stored now (a roster
    re-import can make a slot too full after the plan was made)."""
    sizes = _active_sizes(campaign)
    dept_rooms = dict(DepartmentRoom.objects.filter(campaign=campaign).values_list("department_id", "room_id"))
    # Rooms in the order they were set up (room 1, room 2): database collations sort Chinese differently.
    slots = list(TimeSlot.objects.filter(campaign=campaign).select_related("room").order_by("date", "start", "room_id"))
    by_slot: dict[int, list[SlotAssignment]] = defaultdict(list)
    for a in SlotAssignment.objects.filter(slot__campaign=campaign).select_related(
            "school_class__department").order_by("slot_id", "position", "school_class__name"):
        by_slot[a.slot_id].append(a)
    conflicts: list[dict] = []
    rows = []
    for s in slots:
        cap = _capacity_of(s, campaign)
        classes = []
        for a in by_slot.get(s.id, []):
            c = a.school_class
            wrong_room = c.department_id in dept_rooms and dept_rooms[c.department_id] != s.room_id
            if wrong_room:
                conflicts.append({"code": "schedule.wrong_room", "class": c.name, "slot_id": s.id,
                                  "message_zh": f"{c.name} 不在{c.department.name}指定的拍摄室",
                                  "message_en": f"{c.name} is not in the room set for {c.department.name}"})
            classes.append({"id": c.id, "name": c.name, "department": c.department.name,
                            "size": sizes.get(c.id, 0), "position": a.position, "wrong_room": wrong_room})
        load = sum(c["size"] for c in classes)
        if load > cap:
            conflicts.append({"code": "schedule.over_capacity", "class": None, "slot_id": s.id,
                              "message_zh": f"{s.date} {s.start:%H:%M}–{s.end:%H:%M} {s.room}："
                                            f"{load} 人，超过容量 {cap} 人",
                              "message_en": f"{s.date} {s.start:%H:%M}–{s.end:%H:%M} {s.room}: "
                                            f"{load} students, over the capacity of {cap}"})
        rows.append({"slot": s, "id": s.id, "date": s.date, "start": s.start, "end": s.end, "room": str(s.room),
                     "room_id": s.room_id, "capacity": cap, "load": load, "classes": classes,
                     "percent": round(100 * load / cap) if cap else 0, "over": load > cap})
    assigned = {a.school_class_id for lst in by_slot.values() for a in lst}
    unassigned = [{"id": c.id, "name": c.name, "department": c.department.name, "department_id": c.department_id,
                   "size": sizes.get(c.id, 0)}
                  for c in SchoolClass.objects.filter(campaign=campaign).select_related("department")
                  if c.id not in assigned]
    unassigned.sort(key=lambda c: (c["department_id"], natural_key(c["name"])))
    return {"campaign": campaign, "slots": rows, "unassigned": unassigned, "conflicts": conflicts,
            "seconds_per_student": campaign.seconds_per_student}


def schedule_as_json(*, campaign: Campaign) -> dict:
    """:func:`schedule_overview` in a JSON-friendly shape (``tucai schedule show --json``)."""
    ov = schedule_overview(campaign=campaign)
    return {
        "campaign": campaign.code,
        "seconds_per_student": ov["seconds_per_student"],
        "slots": [{"id": r["id"], "date": r["date"].isoformat(), "start": f"{r['start']:%H:%M}",
                   "end": f"{r['end']:%H:%M}", "room": r["room"], "capacity": r["capacity"], "load": r["load"],
                   "classes": [{"name": c["name"], "department": c["department"], "size": c["size"]}
                               for c in r["classes"]]} for r in ov["slots"]],
        "unassigned": [{"name": c["name"], "department": c["department"], "size": c["size"]} for c in ov["unassigned"]],
        "conflicts": [{k: v for k, v in c.items()} for c in ov["conflicts"]],
    }


# --- writes -----------------------------------------------------------------------------------


def _audit_move(*, actor, school_class: SchoolClass, old: tuple | None, new: tuple | None, action: str) -> None:
    audit_record(actor=actor, actor_label="" if actor else "cli", action=action, obj=school_class,
                 changes={"slot_id": [old[0] if old else None, new[0] if new else None],
                          "position": [old[1] if old else None, new[1] if new else None]})


@transaction.atomic
def schedule_apply(*, campaign: Campaign, actor=None, plan: Plan | None = None) -> Plan:
    """Replace the campaign's schedule with ``plan`` (a fresh :func:`schedule_plan` if not given).

    All or nothing; every class whose slot or position changes gets an audit entry. Classes the
    plan could not place are left unassigned (they are in ``plan.warnings``)."""
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()   # one writer per campaign
    plan = plan or schedule_plan(campaign=campaign)
    slot_ids = set(TimeSlot.objects.filter(campaign=campaign).values_list("id", flat=True))
    classes = {c.id: c for c in SchoolClass.objects.filter(campaign=campaign)}
    for p in plan.placements:
        if p.slot_id not in slot_ids or p.class_id not in classes:
            raise TucaiError("schedule.stale_plan", "排期方案与当前数据不一致，请重新生成",
                             "The plan does not match the campaign's current data; plan again")
    old = {a.school_class_id: (a.slot_id, a.position)
           for a in SlotAssignment.objects.filter(school_class__campaign=campaign)}
    new = {p.class_id: (p.slot_id, p.position) for p in plan.placements}
    SlotAssignment.objects.filter(school_class__campaign=campaign).delete()
    SlotAssignment.objects.bulk_create(
        [SlotAssignment(slot_id=p.slot_id, school_class_id=p.class_id, position=p.position) for p in plan.placements])
    for cid in sorted(set(old) | set(new)):
        if old.get(cid) != new.get(cid):
            _audit_move(actor=actor, school_class=classes[cid], old=old.get(cid), new=new.get(cid),
                        action="schedule.apply")
    return plan


def _renumber(slot_id: int) -> None:
    for i, a in enumerate(SlotAssignment.objects.filter(slot_id=slot_id).order_by("position", "id")):
        if a.position != i:
            SlotAssignment.objects.filter(pk=a.pk).update(position=i)


@transaction.atomic
def schedule_assign(*, school_class: SchoolClass, slot: TimeSlot, position: int | None = None, actor=None,
                    move: bool = True) -> SlotAssignment:
    """Put ``school_class`` into ``slot`` at ``position`` (0-based; default: last), checking conflicts.

    Refuses (:class:`TucaiError`): a slot of another campaign (``schedule.wrong_campaign``); a class
    already in another slot when ``move`` is false (``schedule.class_in_two_slots``); a room other
    than the one required for the class's department (``schedule.wrong_room``); a slot that would be
    over capacity (``schedule.over_capacity``). With ``move`` (the UI's drag between slots) the
    class leaves its old slot in the same transaction, so it is never in two slots.
    """
    slot = TimeSlot.objects.select_for_update().select_related("room", "campaign").get(pk=slot.pk)
    school_class = SchoolClass.objects.select_related("department").get(pk=school_class.pk)
    campaign = slot.campaign
    if school_class.campaign_id != campaign.pk:
        raise TucaiError("schedule.wrong_campaign", "班级与时段不属于同一采集活动",
                         "The class and the slot belong to different campaigns")
    current = SlotAssignment.objects.select_for_update().filter(school_class=school_class).first()
    if current is not None and current.slot_id != slot.pk and not move:
        raise TucaiError(
            "schedule.class_in_two_slots", f"{school_class.name} 已安排在其他时段，一个班级只能在一个时段拍摄",
            f"{school_class.name} is already in another slot; a class is shot in one slot only",
            details={"slot_id": current.slot_id})
    required = DepartmentRoom.objects.filter(campaign=campaign, department_id=school_class.department_id).select_related(
        "room").first()
    if required is not None and required.room_id != slot.room_id:
        raise TucaiError(
            "schedule.wrong_room",
            f"{school_class.name} 属于{school_class.department.name}，应在{required.room}拍摄，不能安排到{slot.room}",
            f"{school_class.name} belongs to {school_class.department.name} and must be shot in {required.room}, "
            f"not {slot.room}", details={"required_room_id": required.room_id})
    sizes = _active_sizes(campaign)
    others = SlotAssignment.objects.filter(slot=slot).exclude(school_class=school_class)
    load = sum(sizes.get(cid, 0) for cid in others.values_list("school_class_id", flat=True))
    size = sizes.get(school_class.pk, 0)
    cap = _capacity_of(slot, campaign)
    if load + size > cap:
        raise TucaiError(
            "schedule.over_capacity",
            f"{slot.date} {slot.start:%H:%M}–{slot.end:%H:%M} {slot.room} 已有 {load} 人，加上 {school_class.name} 的 "
            f"{size} 人超过容量 {cap} 人",
            f"Slot {slot} has {load} students; adding {school_class.name} ({size}) exceeds its capacity of {cap}",
            details={"load": load, "size": size, "capacity": cap})
    old = (current.slot_id, current.position) if current else None
    n_others = others.count()
    pos = n_others if position is None else max(0, min(int(position), n_others))
    # Make room at ``pos`` among the others, then renumber both slots to 0..n-1.
    ordered = list(others.order_by("position", "id"))
    for i, a in enumerate(ordered):
        want = i if i < pos else i + 1
        if a.position != want:
            SlotAssignment.objects.filter(pk=a.pk).update(position=want)
    if current is None:
        assignment = SlotAssignment.objects.create(slot=slot, school_class=school_class, position=pos)
    else:
        SlotAssignment.objects.filter(pk=current.pk).update(slot=slot, position=pos)
        assignment = SlotAssignment.objects.get(pk=current.pk)
        if old[0] != slot.pk:
            _renumber(old[0])
    if old != (slot.pk, pos):
        _audit_move(actor=actor, school_class=school_class, old=old, new=(slot.pk, pos), action="schedule.assign")
    return assignment


@transaction.atomic
def schedule_unassign(*, school_class: SchoolClass, actor=None) -> None:
    """Take ``school_class`` out of the schedule (it shows as unassigned)."""
    current = SlotAssignment.objects.select_for_update().filter(school_class=school_class).first()
    if current is None:
        return
    old = (current.slot_id, current.position)
    current.delete()
    _renumber(old[0])
    _audit_move(actor=actor, school_class=school_class, old=old, new=None, action="schedule.unassign")


def schedule_set_exact(*, campaign: Campaign, table: Iterable[tuple[int, list[int]]], actor=None) -> None:
    """Write a schedule given as (slot id, [class ids in order]) without planning (the demo's notice
    table). Checked like manual edits, so a stored schedule always passes the conflict checks."""
    with transaction.atomic():
        for slot_id, class_ids in table:
            slot = TimeSlot.objects.get(pk=slot_id, campaign=campaign)
            for i, cid in enumerate(class_ids):
                schedule_assign(school_class=SchoolClass.objects.get(pk=cid, campaign=campaign), slot=slot,
                                position=i, actor=actor)
