"""Student lists of a campaign as .xlsx or .csv.

* The columns are the roster import's own headers, so an export (with full ID numbers) imports again.
* Formula injection (CSV/Excel injection) is neutralised: a text cell that starts with ``= + - @``,
  a tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it as text instead of
  evaluating it.
* ID numbers are masked unless the user may see them whole (``user_sees_full_id``).
"""

from __future__ import annotations

import csv
import io

from django.utils import timezone

from tucai.accounts.selectors import require, user_sees_full_id
from tucai.audit.services import audit_record
from tucai.campaigns.models import Campaign, DocumentType, Gender, StudentStatus, mask_doc_number
from tucai.campaigns.selectors import student_list
from tucai.core.errors import TucaiError

HEADER = ["学号", "姓名", "性别", "证件类型", "证件号码", "学院", "班级", "手机", "状态"]
FORMATS = ("xlsx", "csv")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")

_GENDER = {Gender.MALE: "男", Gender.FEMALE: "女", Gender.UNKNOWN: ""}
_DOC_TYPE = {str(k): str(v) for k, v in DocumentType.choices}
_STATUS = {str(k): str(v) for k, v in StudentStatus.choices}


def cell_neutralise(value):
    """Text that a spreadsheet would read as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def student_rows(*, campaign: Campaign, full_ids: bool) -> list[list[str]]:
    """The export's rows (without header), already neutralised."""
    rows = []
    for s in student_list(campaign=campaign).values_list(
            "student_no", "name", "gender", "doc_type", "doc_number", "school_class__department__name",
            "school_class__name", "phone", "status"):
        no, name, gender, doc_type, number, dep, cls, phone, status = s
        rows.append([cell_neutralise(v) for v in (
            no, name, _GENDER.get(gender, ""), _DOC_TYPE.get(doc_type, doc_type),
            number if full_ids else mask_doc_number(number), dep, cls, phone, _STATUS.get(status, status))])
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
    data = _xlsx(rows, title=campaign.name) if fmt == "xlsx" else _csv(rows)
    audit_record(actor=user, actor_label=actor_label, action="roster.export", obj=campaign,
                 note=f"{fmt}, {len(rows)} 人, {'完整证件号' if full_ids else '证件号已遮蔽'}")
    return data


def export_filename(*, campaign: Campaign, fmt: str) -> str:
    return f"{campaign.code}-学生名单-{timezone.localdate():%Y%m%d}.{fmt}"


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    # UTF-8 with BOM: Excel in China opens it without garbling the Chinese.
    return buf.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[list[str]], *, title: str) -> bytes:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(title))
    for letter, width in zip("ABCDEFGHI", (14, 10, 6, 14, 22, 18, 16, 14, 8)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in HEADER:
        c = WriteOnlyCell(ws, value=text)
        c.font = bold
        header.append(c)
    ws.append(header)
    for row in rows:
        ws.append(row)  # all text: 学号 and 证件号码 keep their leading zeros and all 18 digits
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_title(title: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'") or "学生名单"
    return cleaned[:31]
