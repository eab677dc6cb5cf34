"""Progress of a campaign (reads): per class and per room — expected, checked in, photographed,
accepted — and the absentees who need a make-up shoot (补拍), with CSV/XLSX export."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db.models import Exists, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tucai.core.spreadsheets import csv_bytes, xlsx_bytes
from tucai.campaigns.models import Room, SchoolClass, SlotAssignment, Student, StudentStatus
from tucai.capture.models import Ticket
from tucai.stations.models import ACCEPTED_STATES, Shot


@dataclass
class Row:
    key: str
    label: str
    expected: int = 0
    checked_in: int = 0
    photographed: int = 0
    accepted: int = 0

    @property
    def missing(self) -> int:
        return self.expected - self.accepted

    @property
    def percent(self) -> int:
        return round(100 * self.accepted / self.expected) if self.expected else 0


def _students(campaign, class_ids=None):
    """Active students with three flags: has a ticket, has a bound shot, has an accepted shot."""
    qs = Student.objects.filter(campaign=campaign, status=StudentStatus.ACTIVE)
    if class_ids is not None:
        qs = qs.filter(school_class_id__in=class_ids)
    return (qs
            .annotate(
                has_ticket=Exists(Ticket.objects.filter(student=OuterRef("pk"), campaign=campaign)),
                has_shot=Exists(Shot.objects.filter(student=OuterRef("pk"))),
                has_accepted=Exists(Shot.objects.filter(student=OuterRef("pk"), state__in=ACCEPTED_STATES)),
                ticket_room_id=Subquery(Ticket.objects.filter(student=OuterRef("pk"), campaign=campaign)
                                        .order_by("-date", "-pk").values("room_id")[:1]),
            )
            .values("pk", "student_no", "name", "school_class_id", "has_ticket", "has_shot", "has_accepted",
                    "ticket_room_id"))


def progress_class_scope(*, user, campaign) -> frozenset[int] | None:
    """Which classes ``user`` may follow: all (``progress.view``), a monitor's own, or refused."""
    from tucai.accounts.selectors import user_class_scope

    return user_class_scope(user=user, campaign=campaign, perm="progress.view")


def progress_summary(*, campaign, class_ids=None) -> dict:
    """Counts per class, per room (the class's planned room, else the room the student checked in at)
    and in total, and the absentees; with ``class_ids`` only those classes."""
    classes_qs = SchoolClass.objects.filter(campaign=campaign).select_related("department")
    if class_ids is not None:
        classes_qs = classes_qs.filter(pk__in=class_ids)
    classes = {c.pk: c for c in classes_qs}
    room_of = {a.school_class_id: a.slot.room for a in
               SlotAssignment.objects.filter(school_class__campaign=campaign).select_related("slot__room")}
    rooms = {r.pk: r for r in Room.objects.filter(institution_id=campaign.institution_id)}
    by_class: dict[int, Row] = {pk: Row(key=str(pk), label=c.name) for pk, c in classes.items()}
    by_room: dict[str, Row] = {}
    total = Row(key="total", label=str(_("合计")))
    absentees = []
    for s in _students(campaign, class_ids):
        cid = s["school_class_id"]
        # The planned room of the class; for a class not on the schedule, where the student checked in.
        room = room_of.get(cid) or rooms.get(s["ticket_room_id"])
        rkey = str(room.pk) if room else "-"
        rrow = by_room.setdefault(rkey, Row(key=rkey, label=str(room) if room else str(_("未安排"))))
        for row in (by_class[cid], rrow, total):
            row.expected += 1
            row.checked_in += s["has_ticket"]
            row.photographed += s["has_shot"]
            row.accepted += s["has_accepted"]
        if not s["has_accepted"]:
            status = ("photographed_not_accepted" if s["has_shot"] else
                      "checked_in_not_photographed" if s["has_ticket"] else "absent")
            absentees.append({
                "student_no": s["student_no"], "name": s["name"], "class": classes[cid].name,
                "department": classes[cid].department.name, "room": str(room) if room else "",
                "status": status,
            })
    absentees.sort(key=lambda a: (a["class"], a["student_no"]))
    return {
        "campaign": campaign.code,
        "classes": sorted(by_class.values(), key=lambda r: r.label),
        "rooms": sorted(by_room.values(), key=lambda r: (r.key == "-", r.label)),
        "total": total,
        "absentees": absentees,
    }


STATUS_ZH = {"absent": _("未签到"), "checked_in_not_photographed": _("已签到未拍摄"),
             "photographed_not_accepted": _("已拍摄未通过")}


def progress_as_json(*, campaign, class_ids=None) -> dict:
    data = progress_summary(campaign=campaign, class_ids=class_ids)

    def row(r: Row) -> dict:
        return {**asdict(r), "missing": r.missing}

    return {"campaign": data["campaign"], "total": row(data["total"]),
            "classes": [row(r) for r in data["classes"]], "rooms": [row(r) for r in data["rooms"]],
            "absentees": data["absentees"]}


def _sheets(campaign, class_ids=None) -> list[tuple[str, list[str], list[list]]]:
    data = progress_summary(campaign=campaign, class_ids=class_ids)
    head = ["名称", "应拍", "已签到", "已拍摄", "已通过", "未完成"]

    def rows(rs):
        return [[r.label, r.expected, r.checked_in, r.photographed, r.accepted, r.missing] for r in rs]

    return [
        ("按班级", ["班级", *head[1:]], rows([*data["classes"], data["total"]])),
        ("按拍摄室", ["拍摄室", *head[1:]], rows([*data["rooms"], data["total"]])),
        ("补拍名单", ["学号", "姓名", "班级", "学院", "拍摄室", "状态"],
         [[a["student_no"], a["name"], a["class"], a["department"], a["room"], str(STATUS_ZH[a["status"]])]
          for a in data["absentees"]]),
    ]


def progress_export_csv(*, campaign, sheet: str = "补拍名单", class_ids=None) -> bytes:
    """One sheet as CSV (UTF-8 with BOM so Excel opens the Chinese text correctly)."""
    for title, head, rows in _sheets(campaign, class_ids):
        if title == sheet:
            return csv_bytes(head, rows)
    raise KeyError(sheet)


def progress_export_xlsx(*, campaign, class_ids=None) -> bytes:
    return xlsx_bytes(_sheets(campaign, class_ids), widths=(16, 10, 16, 16, 14, 14))


# Sheet names are also the ?sheet= keys of the CSV links; gettext_noop puts them in the catalogue for the link text.
SHEETS = (gettext_noop("按班级"), gettext_noop("按拍摄室"), gettext_noop("补拍名单"))
