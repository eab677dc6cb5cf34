"""Student lists of a campaign as .xlsx or .csv.

* The columns are the roster import's own headers, so an export (with full ID numbers) imports again.
* Formula injection (CSV/Excel injection) is neutralised: a text cell that starts with ``= + - @``,
  a tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it as text instead of
  evaluating it.
* ID numbers are masked unless the user may see them whole (``user_sees_full_id``).
"""

from __future__ import annotations


from django.utils import timezone

from tucai.accounts.selectors import require, user_sees_full_id
from tucai.audit.services import audit_record
from tucai.campaigns.models import Campaign, DocumentType, Gender, StudentStatus, mask_doc_number, mask_phone
from tucai.campaigns.selectors import student_list
from tucai.core.errors import TucaiError
from tucai.core.spreadsheets import csv_bytes, sheet_title, xlsx_bytes

HEADER = ["学号", "姓名", "性别", "证件类型", "证件号码", "学院", "班级", "手机", "状态"]
FORMATS = ("xlsx", "csv")
_WIDTHS = (14, 10, 6, 14, 22, 18, 16, 14, 8)

_GENDER = {Gender.MALE: "男", Gender.FEMALE: "女", Gender.UNKNOWN: ""}
_DOC_TYPE = {str(k): str(v) for k, v in DocumentType.choices}
_STATUS = {str(k): str(v) for k, v in StudentStatus.choices}


def student_rows(*, campaign: Campaign, full_ids: bool) -> list[list[str]]:
    """The export's rows (without header); the writers neutralise formula-like cells."""
    rows = []
    for s in student_list(campaign=campaign).values_list(
            "student_no", "name", "gender", "doc_type", "doc_number", "school_class__department__name",
            "school_class__name", "phone", "status"):
        no, name, gender, doc_type, number, dep, cls, phone, status = s
        # Whoever may not see the whole ID number does not get the whole mobile number either.
        rows.append([no, name, _GENDER.get(gender, ""), _DOC_TYPE.get(doc_type, doc_type),
                     number if full_ids else mask_doc_number(number), dep, cls,
                     phone if full_ids else mask_phone(phone), _STATUS.get(status, status)])
    return rows


def roster_export(*, campaign: Campaign, fmt: str, user=None, masked: bool | None = None,
                  actor_label: str = "") -> bytes:
    """The campaign's students as ``fmt`` ("xlsx" or "csv") bytes.

    With a ``user`` the export needs ``roster.export`` at the campaign's institution and shows full ID
    numbers only to those who may see them; without one (the command line, run by whoever runs the
    server) IDs are full unless ``masked``. Exporting personal data is written to the audit log."""
    if fmt not in FORMATS:
        raise TucaiError("export.format", f"不支持的导出格式“{fmt}”（xlsx 或 csv）",
                         f"Unsupported export format {fmt!r} (xlsx or csv)")
    full_ids = True
    if user is not None:
        require(user=user, institution_id=campaign.institution_id, perm="roster.export")
        full_ids = user_sees_full_id(user=user, institution_id=campaign.institution_id)
    if masked:
        full_ids = False
    rows = student_rows(campaign=campaign, full_ids=full_ids)
    data = (xlsx_bytes([(sheet_title(campaign.name, "学生名单"), HEADER, rows)], widths=_WIDTHS) if fmt == "xlsx"
            else csv_bytes(HEADER, rows))
    audit_record(actor=user, actor_label=actor_label, action="roster.export", obj=campaign,
                 note=f"{fmt}, {len(rows)} 人, {'完整证件号' if full_ids else '证件号已遮蔽'}")
    return data


def export_filename(*, campaign: Campaign, fmt: str) -> str:
    return f"{campaign.code}-学生名单-{timezone.localdate():%Y%m%d}.{fmt}"
