"""``tucai schedule show|plan --campaign CODE``: print the schedule, or plan it (and apply with --apply)."""

import json

from django.core.management.base import CommandError

from tucai.campaigns.selectors import campaign_by_code
from tucai.campaigns.services.planner import schedule_apply, schedule_as_json, schedule_plan
from tucai.core.errors import TucaiError
from tucai.core.management.base import JsonCommand


class Command(JsonCommand):
    help = "拍摄排期：show 显示当前排期；plan 按容量与学院拍摄室约束自动排期（--apply 写入）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="显示排期（每个时段、拍摄室的班级及人数）")
        show.add_argument("--campaign", required=True, help="活动代码，如 demo-2024")
        show.add_argument("--json", action="store_true", help="输出 JSON")
        plan = sub.add_parser("plan", help="自动排期（默认只预览）")
        plan.add_argument("--campaign", required=True, help="活动代码，如 demo-2024")
        plan.add_argument("--apply", action="store_true", help="写入排期（替换当前排期，记入审计日志）")
        plan.add_argument("--seconds-per-student", type=int, default=None, help="每人拍摄秒数（默认取活动设置）")

    def handle(self, *args, action, campaign, **options):
        try:
            camp = campaign_by_code(campaign)
            if action == "show":
                return self._show(camp, as_json=options["json"])
            return self._plan(camp, apply=options["apply"], seconds=options["seconds_per_student"])
        except TucaiError as e:
            raise CommandError(f"{e.code}: {e.message}") from e

    def _show(self, camp, *, as_json: bool):
        data = schedule_as_json(campaign=camp)
        if as_json:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{camp.name} ({camp.code}) · 每人 {data['seconds_per_student']} 秒")
        for s in data["slots"]:
            names = "、".join(f"{c['name']}({c['size']})" for c in s["classes"]) or "—"
            flag = "  ⚠ 超出容量" if s["load"] > s["capacity"] else ""
            self.stdout.write(f"{s['date']} {s['start']}–{s['end']}  {s['room']}  {s['load']}/{s['capacity']}人  "
                              f"{names}{flag}")
        if data["unassigned"]:
            self.stdout.write("未安排: " + "、".join(f"{c['name']}({c['size']})" for c in data["unassigned"]))
        for c in data["conflicts"]:
            self.stdout.write(self.style.WARNING(f"冲突 {c['code']}: {c['message_zh']}"))

    def _plan(self, camp, *, apply: bool, seconds):
        plan = schedule_plan(campaign=camp, seconds_per_student=seconds)
        if apply:
            if seconds and seconds != camp.seconds_per_student:
                raise CommandError("--apply 使用活动设置的每人拍摄秒数；请先在后台修改该设置")
            schedule_apply(campaign=camp, plan=plan)
        names = dict(camp.classes.values_list("id", "name"))
        by_slot: dict[int, list[str]] = {}
        for p in plan.placements:
            by_slot.setdefault(p.slot_id, []).append(names[p.class_id])
        for slot in camp.slots.select_related("room").order_by("date", "start", "room_id"):
            self.stdout.write(f"{slot.date} {slot.start:%H:%M}–{slot.end:%H:%M}  {slot.room}  "
                              f"{plan.load.get(slot.pk, 0)}/{plan.capacity.get(slot.pk, 0)}人  "
                              + ("、".join(by_slot.get(slot.pk, [])) or "—"))
        for w in plan.warnings:
            self.stdout.write(self.style.WARNING(f"{w.code}: {w.message_zh}"))
        self.stdout.write(self.style.SUCCESS("已写入排期") if apply else "预览（未写入；加 --apply 写入）")
