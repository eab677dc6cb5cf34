"""CSV and XLSX output that Excel/WPS in China open correctly and cannot be tricked by.

Every exported cell passes :func:`cell_neutralise`: text a spreadsheet would read as a formula
(= + - @, or a leading tab/CR) gets a leading apostrophe so it is shown, never run."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def cell_neutralise(value):
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def csv_bytes(header: Sequence, rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with BOM (Excel in China opens it without garbling the Chinese), CRLF lines."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([cell_neutralise(v) for v in header])
    for row in rows:
        w.writerow([cell_neutralise(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def sheet_title(title: str, default: str = "Sheet") -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'") or default
    return cleaned[:31]


def xlsx_bytes(sheets: Iterable[tuple[str, Sequence, Iterable[Sequence]]], *,
               widths: Sequence[float] = ()) -> bytes:
    """One workbook from ``(title, header, rows)`` triples; bold frozen header; values kept as given
    (text stays text, so 学号 and ID numbers keep leading zeros and all 18 digits)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title=sheet_title(title))
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
        head = []
        for text in header:
            c = WriteOnlyCell(ws, value=cell_neutralise(text))
            c.font = bold
            head.append(c)
        ws.append(head)
        for row in rows:
            ws.append([cell_neutralise(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
