"""Schedule planner: capacity, department-room constraints, infeasible input, manual edits."""

from __future__ import annotations

import datetime as dt

import pytest

from tucai.campaigns.services.planner import (
    PlanClass,
    PlanInput,
    PlanRoom,
    PlanSlot,
    plan_compute,
    slot_capacity,
)
from tucai.core.errors import TucaiError

D = dt.date(2023, 3, 3)


def t(hhmm: str) -> dt.time:
    h, m = hhmm.split(":")
    return dt.time(int(h), int(m))


def slots_for(room_id: int, windows, first_id: int) -> tuple[PlanSlot, ...]:
    return tuple(PlanSlot(id=first_id + i, room_id=room_id, date=D, start=t(a), end=t(b))
                 for i, (a, b) in enumerate(windows))


def check_plan_invariants(data: PlanInput, plan) -> None:
    """No slot over capacity, each class once, department rooms respected."""
    sizes = {c.id: c for c in data.classes}
    slots = {s.id: s for s in data.slots}
    seen = [p.class_id for p in plan.placements]
    assert len(seen) == len(set(seen)), "a class placed twice"
    load = {}
    for p in plan.placements:
        load[p.slot_id] = load.get(p.slot_id, 0) + sizes[p.class_id].size
        required = data.department_rooms.get(sizes[p.class_id].department_id)
        if required is not None:
            assert slots[p.slot_id].room_id == required
    for sid, n in load.items():
        assert n <= plan.capacity[sid]
        assert plan.load[sid] == n


def test_capacity_is_seconds_times_stations_over_seconds_per_student():
    assert slot_capacity(seconds=3600, stations=1, seconds_per_student=20) == 180
    assert slot_capacity(seconds=5400, stations=2, seconds_per_student=20) == 540
    assert slot_capacity(seconds=3600, stations=1, seconds_per_student=7) == 514   # whole students only
    with pytest.raises(TucaiError) as e:
        slot_capacity(seconds=3600, stations=1, seconds_per_student=0)
    assert e.value.code == "schedule.bad_seconds_per_student"


def test_plan_fills_slots_in_order_without_exceeding_capacity():
    rooms = (PlanRoom(1, "一会议室"),)
    slots = slots_for(1, [("08:00", "09:00"), ("09:00", "10:30")], 10)          # 180 + 270
    classes = tuple(PlanClass(id=i, name=f"会计12{i:02d}", department_id=1, department_name="管理艺术学院", size=50)
                    for i in range(1, 9))                                       # 8 × 50 = 400
    data = PlanInput(rooms=rooms, slots=slots, classes=classes, department_rooms={})
    plan = plan_compute(data)
    check_plan_invariants(data, plan)
    assert not plan.warnings
    by_slot = {}
    for p in plan.placements:
        by_slot.setdefault(p.slot_id, []).append(p.class_id)
    assert by_slot == {10: [1, 2, 3], 11: [4, 5, 6, 7, 8]}                      # 150 ≤ 180; 250 ≤ 270
    assert [p.position for p in plan.placements if p.slot_id == 11] == [0, 1, 2, 3, 4]


def test_stations_multiply_capacity():
    classes = tuple(PlanClass(id=i, name=f"c{i}", department_id=1, department_name="d", size=100) for i in range(3))
    one = PlanInput(rooms=(PlanRoom(1, "r", stations=1),), slots=slots_for(1, [("08:00", "09:00")], 1),
                    classes=classes, department_rooms={})
    two = PlanInput(rooms=(PlanRoom(1, "r", stations=2),), slots=one.slots, classes=classes, department_rooms={})
    assert len(plan_compute(one).placements) == 1        # 180 places: one class of 100
    assert len(plan_compute(two).placements) == 3        # 360 places: three


def test_department_room_constraint_is_respected_even_when_other_room_is_empty():
    rooms = (PlanRoom(1, "一会议室"), PlanRoom(2, "二会议室"))
    slots = slots_for(1, [("08:00", "09:00")], 1) + slots_for(2, [("08:00", "09:00")], 2)
    classes = (PlanClass(1, "电商1211", 1, "管理艺术学院", 100), PlanClass(2, "电商1212", 1, "管理艺术学院", 100),
               PlanClass(3, "风电1211", 2, "新能源学院", 50))
    data = PlanInput(rooms=rooms, slots=slots, classes=classes, department_rooms={1: 1, 2: 2})
    plan = plan_compute(data)
    check_plan_invariants(data, plan)
    placed = {p.class_id: p.slot_id for p in plan.placements}
    assert placed == {1: 1, 3: 2}                          # 电商1212 does not spill into room 2
    assert [(w.code, w.class_id) for w in plan.warnings] == [("schedule.no_capacity", 2)]


def test_unconstrained_department_uses_any_room_and_stays_together():
    rooms = (PlanRoom(1, "一会议室"), PlanRoom(2, "二会议室"))
    slots = slots_for(1, [("08:00", "09:00")], 1) + slots_for(2, [("08:00", "09:00")], 2)
    classes = (PlanClass(1, "a1", 1, "A", 170), PlanClass(2, "b1", 2, "B", 60), PlanClass(3, "b2", 2, "B", 60))
    data = PlanInput(rooms=rooms, slots=slots, classes=classes, department_rooms={1: 1})
    plan = plan_compute(data)
    check_plan_invariants(data, plan)
    placed = {p.class_id: p.slot_id for p in plan.placements}
    assert placed == {1: 1, 2: 2, 3: 2} and not plan.warnings


def test_infeasible_inputs_are_reported_with_reasons():
    rooms = (PlanRoom(1, "一会议室"), PlanRoom(2, "二会议室"))
    slots = slots_for(1, [("08:00", "09:00")], 1)                      # room 2 has no slot at all
    classes = (PlanClass(1, "巨型1211", 1, "A", 181),                   # more than a whole slot: never split
               PlanClass(2, "新能1211", 2, "B", 30),                    # its room has no slots
               PlanClass(3, "空班1211", 1, "A", 0),                     # nobody active
               PlanClass(4, "正常1211", 1, "A", 150),
               PlanClass(5, "正常1212", 1, "A", 40))                    # 150 + 40 > 180
    data = PlanInput(rooms=rooms, slots=slots, classes=classes, department_rooms={2: 2})
    plan = plan_compute(data)
    check_plan_invariants(data, plan)
    codes = {w.class_id: w.code for w in plan.warnings}
    assert codes == {1: "schedule.class_too_large", 2: "schedule.no_slot_for_room", 3: "schedule.empty_class",
                     5: "schedule.no_capacity"}
    assert [p.class_id for p in plan.placements] == [4]
    assert "181" in next(w.message_zh for w in plan.warnings if w.class_id == 1)
    assert sorted(plan.unplaced_class_ids) == [1, 2, 5]


def test_plan_falls_back_to_earlier_gap_when_later_slots_are_full():
    rooms = (PlanRoom(1, "r"),)
    slots = slots_for(1, [("08:00", "09:00"), ("09:00", "10:00")], 1)         # 180 + 180
    classes = (PlanClass(1, "c1", 1, "d", 100), PlanClass(2, "c2", 1, "d", 170), PlanClass(3, "c3", 1, "d", 60))
    plan = plan_compute(PlanInput(rooms=rooms, slots=slots, classes=classes, department_rooms={}))
    assert {p.class_id: p.slot_id for p in plan.placements} == {1: 1, 2: 2, 3: 1}


def test_plan_orders_by_department_then_class_name_naturally():
    rooms = (PlanRoom(1, "r"),)
    slots = slots_for(1, [("08:00", "12:00")], 1)
    classes = (PlanClass(5, "会计12110", 2, "B", 10), PlanClass(4, "会计1212", 2, "B", 10),
               PlanClass(3, "电商1211", 1, "A", 10), PlanClass(9, "动漫1211", 1, "A", 10))
    plan = plan_compute(PlanInput(rooms=rooms, slots=slots, classes=classes, department_rooms={}))
    assert [p.class_id for p in plan.placements] == [9, 3, 4, 5]


# --- with the database ------------------------------------------------------------------------

@pytest.fixture
def setup(campaign, institution, department):
    """Two rooms, one 60-minute slot each; 管理艺术学院 must use room 1; 新能源学院 room 2."""
    from tucai.campaigns.models import Department, DepartmentRoom, Room, TimeSlot

    r1 = Room.objects.create(institution=institution, building="博学楼", name="一会议室")
    r2 = Room.objects.create(institution=institution, building="博学楼", name="二会议室")
    other = Department.objects.create(institution=institution, name="新能源学院")
    DepartmentRoom.objects.create(campaign=campaign, department=department, room=r1)
    DepartmentRoom.objects.create(campaign=campaign, department=other, room=r2)
    s1 = TimeSlot.objects.create(campaign=campaign, room=r1, date=D, start=t("08:00"), end=t("09:00"))
    s2 = TimeSlot.objects.create(campaign=campaign, room=r2, date=D, start=t("08:00"), end=t("09:00"))
    s3 = TimeSlot.objects.create(campaign=campaign, room=r1, date=D, start=t("09:00"), end=t("10:00"))
    return {"r1": r1, "r2": r2, "other": other, "s1": s1, "s2": s2, "s3": s3}


def add_class(campaign, department, name: str, size: int, *, inactive: int = 0):
    from tests.conftest import resident_id

    from tucai.campaigns.models import SchoolClass, Student

    cls = SchoolClass.objects.create(campaign=campaign, department=department, name=name)
    base = SchoolClass.objects.filter(campaign=campaign).count() * 1000
    Student.objects.bulk_create([
        Student(campaign=campaign, school_class=cls, student_no=f"{base + i}", name=f"学生{i}",
                doc_number=resident_id("430521", dt.date(2002, 1, 1) + dt.timedelta(days=base // 1000), i),
                status="inactive" if i < inactive else "active")
        for i in range(size + inactive)])
    return cls


def test_schedule_plan_counts_only_active_students_and_apply_is_audited(campaign, department, setup, office_user):
    from tucai.audit.models import AuditEntry
    from tucai.campaigns.models import SlotAssignment
    from tucai.campaigns.services.planner import schedule_apply, schedule_plan

    a = add_class(campaign, department, "电商1211", 100, inactive=50)     # 100 active
    b = add_class(campaign, department, "电商1212", 90)
    c = add_class(campaign, setup["other"], "风电1211", 120)
    plan = schedule_plan(campaign=campaign)
    assert not plan.warnings
    schedule_apply(campaign=campaign, plan=plan, actor=office_user)
    got = {x.school_class_id: x.slot_id for x in SlotAssignment.objects.all()}
    assert got == {a.pk: setup["s1"].pk, b.pk: setup["s3"].pk, c.pk: setup["s2"].pk}
    entries = AuditEntry.objects.filter(action="schedule.apply")
    assert entries.count() == 3 and all(e.actor_id == office_user.pk for e in entries)
    # Applying the same plan again changes nothing and writes no new entries.
    schedule_apply(campaign=campaign, actor=office_user)
    assert AuditEntry.objects.filter(action="schedule.apply").count() == 3


def test_schedule_apply_is_all_or_nothing(campaign, department, setup):
    from tucai.campaigns.models import SlotAssignment
    from tucai.campaigns.services.planner import Placement, schedule_apply, schedule_plan

    a = add_class(campaign, department, "电商1211", 10)
    schedule_apply(campaign=campaign)
    before = list(SlotAssignment.objects.values_list("school_class_id", "slot_id"))
    plan = schedule_plan(campaign=campaign)
    plan.placements.append(Placement(class_id=a.pk + 999, slot_id=setup["s1"].pk, position=1))
    with pytest.raises(TucaiError) as e:
        schedule_apply(campaign=campaign, plan=plan)
    assert e.value.code == "schedule.stale_plan"
    assert list(SlotAssignment.objects.values_list("school_class_id", "slot_id")) == before


def test_manual_assign_refuses_conflicts(campaign, department, setup, office_user):
    from tucai.audit.models import AuditEntry
    from tucai.campaigns.models import SlotAssignment
    from tucai.campaigns.services.planner import schedule_assign

    a = add_class(campaign, department, "电商1211", 100)
    b = add_class(campaign, department, "电商1212", 90)
    schedule_assign(school_class=a, slot=setup["s1"], actor=office_user)
    # Over capacity: 100 + 90 > 180.
    with pytest.raises(TucaiError) as e:
        schedule_assign(school_class=b, slot=setup["s1"], actor=office_user)
    assert e.value.code == "schedule.over_capacity" and e.value.details["capacity"] == 180
    # Outside the department's room.
    with pytest.raises(TucaiError) as e:
        schedule_assign(school_class=b, slot=setup["s2"], actor=office_user)
    assert e.value.code == "schedule.wrong_room"
    # A class in two slots: refused when not moving.
    with pytest.raises(TucaiError) as e:
        schedule_assign(school_class=a, slot=setup["s3"], actor=office_user, move=False)
    assert e.value.code == "schedule.class_in_two_slots"
    assert SlotAssignment.objects.get(school_class=a).slot_id == setup["s1"].pk
    assert not SlotAssignment.objects.filter(school_class=b).exists()
    # Moving is allowed and leaves the class in exactly one slot, audited with old and new slot.
    schedule_assign(school_class=a, slot=setup["s3"], actor=office_user)
    assert list(SlotAssignment.objects.filter(school_class=a).values_list("slot_id", flat=True)) == [setup["s3"].pk]
    entry = AuditEntry.objects.filter(action="schedule.assign").first()
    assert entry.changes["slot_id"] == [setup["s1"].pk, setup["s3"].pk]


def test_manual_assign_refuses_slot_of_another_campaign(campaign, department, setup, institution):
    from tucai.campaigns.models import Campaign, TimeSlot
    from tucai.campaigns.services.planner import schedule_assign

    other = Campaign.objects.create(institution=institution, code="other", name="x", graduation_year=2025,
                                    capture_start=D, capture_end=D)
    slot = TimeSlot.objects.create(campaign=other, room=setup["r1"], date=D, start=t("08:00"), end=t("09:00"))
    a = add_class(campaign, department, "电商1211", 5)
    with pytest.raises(TucaiError) as e:
        schedule_assign(school_class=a, slot=slot)
    assert e.value.code == "schedule.wrong_campaign"


def test_positions_insert_and_renumber(campaign, department, setup):
    from tucai.campaigns.models import SlotAssignment
    from tucai.campaigns.services.planner import schedule_assign, schedule_unassign

    a, b, c = (add_class(campaign, department, f"电商121{i}", 10) for i in (1, 2, 3))
    for cls in (a, b):
        schedule_assign(school_class=cls, slot=setup["s1"])
    schedule_assign(school_class=c, slot=setup["s1"], position=0)

    def order(slot):
        return list(SlotAssignment.objects.filter(slot=slot).order_by("position").values_list(
            "school_class__name", "position"))

    assert order(setup["s1"]) == [("电商1213", 0), ("电商1211", 1), ("电商1212", 2)]
    schedule_assign(school_class=c, slot=setup["s3"])                     # move away: the old slot closes the gap
    assert order(setup["s1"]) == [("电商1211", 0), ("电商1212", 1)]
    schedule_unassign(school_class=a)
    assert order(setup["s1"]) == [("电商1212", 0)]


def test_overview_reports_conflicts_in_stored_schedule(campaign, department, setup):
    """A roster re-import can overfill a slot after planning: show it, do not hide it."""
    from tucai.campaigns.models import SlotAssignment
    from tucai.campaigns.services.planner import schedule_overview

    a = add_class(campaign, department, "电商1211", 100)
    b = add_class(campaign, department, "电商1212", 100)
    SlotAssignment.objects.create(slot=setup["s1"], school_class=a, position=0)
    SlotAssignment.objects.create(slot=setup["s2"], school_class=b, position=0)   # wrong room, written directly
    add_class(campaign, department, "电商1213", 5)
    ov = schedule_overview(campaign=campaign)
    assert {c["code"] for c in ov["conflicts"]} == {"schedule.wrong_room"}
    assert ov["conflicts"][0]["message_en"] == f"电商1212 is not in the room set for {department.name}"
    assert [c["name"] for c in ov["unassigned"]] == ["电商1213"]
    row = next(r for r in ov["slots"] if r["id"] == setup["s1"].pk)
    assert (row["load"], row["capacity"], row["over"]) == (100, 180, False)


def test_plan_spreads_the_day_when_there_is_room_to_spare():
    rooms = (PlanRoom(1, "r"),)
    slots = slots_for(1, [("08:00", "09:00"), ("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00")], 1)
    classes = tuple(PlanClass(i, f"c{i:02d}", 1, "d", 40) for i in range(8))      # 320 of 720 places
    data = PlanInput(rooms=rooms, slots=slots, classes=classes, department_rooms={})
    plan = plan_compute(data)
    check_plan_invariants(data, plan)
    assert not plan.warnings and len(plan.placements) == 8
    assert sorted(plan.load.values()) == [80, 80, 80, 80]                           # not 160, 160, 0, 0
    # Order is kept: slot by slot, the classes follow their names.
    ordered = [p.class_id for p in sorted(plan.placements, key=lambda p: (p.slot_id, p.position))]
    assert ordered == list(range(8))


def test_balancing_still_places_a_whole_slot_class():
    """Balanced limits would keep a 180-student class out of every slot; full capacity takes it."""
    rooms = (PlanRoom(1, "r"),)
    slots = slots_for(1, [("08:00", "09:00"), ("09:00", "10:00"), ("10:00", "11:00")], 1)   # 3 × 180
    sizes = [30, 30, 180, 30, 30, 30, 30]                                                  # 360 of 540
    classes = tuple(PlanClass(i, f"c{i}", 1, "d", n) for i, n in enumerate(sizes))
    data = PlanInput(rooms=rooms, slots=slots, classes=classes, department_rooms={})
    plan = plan_compute(data)
    check_plan_invariants(data, plan)
    assert len(plan.placements) == 7 and not plan.warnings
    assert max(plan.load.values()) == 180


def test_overview_flags_a_slot_overfilled_after_planning(campaign, department, setup):
    from tucai.campaigns.models import SlotAssignment, Student
    from tucai.campaigns.services.planner import schedule_overview

    a = add_class(campaign, department, "电商1211", 150)
    SlotAssignment.objects.create(slot=setup["s1"], school_class=a, position=0)
    b = add_class(campaign, department, "电商1212", 40)
    Student.objects.filter(school_class=b).update(school_class=a)                 # roster change: 190 > 180
    ov = schedule_overview(campaign=campaign)
    assert [c["code"] for c in ov["conflicts"]] == ["schedule.over_capacity"]
    assert ov["conflicts"][0]["message_en"].endswith("190 students, over the capacity of 180")
    row = next(r for r in ov["slots"] if r["id"] == setup["s1"].pk)
    assert (row["load"], row["over"]) == (190, True)


def test_schedule_commands_plan_apply_and_show(campaign, department, setup):
    import json
    from io import StringIO

    from django.core.management import call_command

    from tucai.audit.models import AuditEntry
    from tucai.campaigns.models import SlotAssignment

    add_class(campaign, department, "电商1211", 100)
    add_class(campaign, department, "电商1212", 100)
    add_class(campaign, department, "电商1213", 200)                                # never fits: warned
    out = StringIO()
    call_command("schedule", "plan", "--campaign", campaign.code, stdout=out)
    assert "schedule.class_too_large" in out.getvalue() and "预览" in out.getvalue()
    assert SlotAssignment.objects.count() == 0                                      # preview writes nothing
    call_command("schedule", "plan", "--campaign", campaign.code, "--apply", stdout=StringIO())
    assert SlotAssignment.objects.count() == 2
    assert AuditEntry.objects.filter(action="schedule.apply", actor_label="cli").count() == 2
    js = StringIO()
    call_command("schedule", "show", "--campaign", campaign.code, "--json", stdout=js)
    data = json.loads(js.getvalue())
    assert [c["name"] for c in data["unassigned"]] == ["电商1213"]
    assert sorted(c["name"] for s in data["slots"] for c in s["classes"]) == ["电商1211", "电商1212"]
    text = StringIO()
    call_command("schedule", "show", "--campaign", campaign.code, stdout=text)
    assert "未安排: 电商1213(200)" in text.getvalue() and "100/180人" in text.getvalue()
