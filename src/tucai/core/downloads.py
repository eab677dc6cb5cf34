"""Spreadsheet downloads of a page (``?export=xlsx`` or ``?export=csv&sheet=…``), one way for every page."""

from __future__ import annotations

from collections.abc import Callable, Collection

from django.http import Http404, HttpResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_response(request, *, stem: str, sheets: Collection[str], default_sheet: str,
                    xlsx: Callable[[], bytes], csv: Callable[[str], bytes]) -> HttpResponse | None:
    """The download the request asks for, or ``None`` when it asks for the page itself. ``xlsx()`` makes the
    workbook, ``csv(sheet)`` one sheet of it; an unknown sheet or format is a 404."""
    fmt = request.GET.get("export")
    if not fmt:
        return None
    if fmt == "xlsx":
        resp = HttpResponse(xlsx(), content_type=XLSX)
    elif fmt == "csv":
        sheet = request.GET.get("sheet", default_sheet)
        if sheet not in sheets:
            raise Http404("no such sheet")
        resp = HttpResponse(csv(sheet), content_type="text/csv; charset=utf-8")
    else:
        raise Http404("no such format")
    resp["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return resp
