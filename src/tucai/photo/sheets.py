"""Print sheets: mixed print sizes laid out on a photo-paper sheet, rendered at 300 dpi (JPEG/PNG) or PDF.

Layout is computed in millimetres (as whole hundredths of a millimetre, so sums are exact) and turned
into pixels only when rendering; every photo box is exactly ``mm_to_px(size)`` pixels. A print may be
turned by 90° on the sheet when that fits more (the box and its content turn together: the photo itself
is never rotated relative to its print).

Packing (:func:`plan_package`): a three-stage guillotine search. The printable area (sheet minus
margins) is cut into full-width horizontal bands; a band is cut into columns; a column is a stack of
identical prints in one orientation. Gaps are handled by growing every print and the printable area
by one gap, so a layout of grown boxes that touch has exactly one gap between real boxes. The search is
exhaustive over band heights (multiples of print heights) and column mixes, memoised on
(remaining height, remaining counts), run for both sheet orientations, and keeps the layout placing
the largest print area. Sheets are filled one after another with what is left.

The notice's package (8 × 1寸 + 4 × 1.5寸) on a 6寸 sheet needs two sheets with 2 mm margins and
2 mm gaps (the grown boxes cover 14 992 of the 15 000 mm² available, and no row of them adds up to the
width exactly: see tests/photo/test_sheets.py), but fits one sheet with gaps of 1.5 mm or less.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from tucai.photo.errors import SheetError
from tucai.photo.spec import (
    CHSI, DEFAULT_SHEET_STYLE, MM_PER_INCH, PRINT_PACKAGES, PRINT_SIZES, SHEET_SIZES, PrintPackage, PrintSize,
    SheetStyle, mm_to_px,
)

_U = 100                      # layout units per millimetre (exact to 0.01 mm)
_MAX_BAND_STATES = 3_000      # guard for absurd packages (hundreds of prints on A4): fall back to greedy


@dataclass(frozen=True)
class Placement:
    """One print on the sheet: its box in millimetres from the sheet's top-left corner.

    ``w_mm``/``h_mm`` are the box on the sheet, so a ``rotated`` print has them swapped."""

    size_id: str
    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float
    rotated: bool

    def px_box(self, dpi: int = 300) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in pixels; width and height are exactly mm_to_px of the print."""
        x, y = mm_to_px(self.x_mm, dpi), mm_to_px(self.y_mm, dpi)
        return x, y, x + mm_to_px(self.w_mm, dpi), y + mm_to_px(self.h_mm, dpi)


@dataclass(frozen=True)
class SheetLayout:
    sheet_id: str
    width_mm: float
    height_mm: float
    placements: list[Placement]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.placements:
            out[p.size_id] = out.get(p.size_id, 0) + 1
        return out

    def px_size(self, dpi: int = 300) -> tuple[int, int]:
        return mm_to_px(self.width_mm, dpi), mm_to_px(self.height_mm, dpi)


# --- lookup -------------------------------------------------------------------------------------

def _package(package: PrintPackage | str) -> PrintPackage:
    if isinstance(package, PrintPackage):
        return package
    try:
        return PRINT_PACKAGES[package]
    except KeyError:
        raise SheetError("sheet.unknown_package", f"未知的冲印套餐：{package}", f"Unknown print package: {package}",
                         details={"known": sorted(PRINT_PACKAGES)}) from None


def _sheet(sheet: PrintSize | str) -> PrintSize:
    if isinstance(sheet, PrintSize):
        return sheet
    try:
        return SHEET_SIZES[sheet]
    except KeyError:
        raise SheetError("sheet.unknown_sheet", f"未知的相纸尺寸：{sheet}", f"Unknown sheet size: {sheet}",
                         details={"known": sorted(SHEET_SIZES)}) from None


def _print_size(size_id: str) -> PrintSize:
    try:
        return PRINT_SIZES[size_id]
    except KeyError:
        raise SheetError("sheet.unknown_size", f"未知的照片尺寸：{size_id}", f"Unknown print size: {size_id}",
                         details={"known": sorted(PRINT_SIZES)}) from None


def _u(mm: float) -> int:
    return round(mm * _U)


# --- packing ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Col:
    """A print kind: print type ``t`` in one orientation; cell = grown box (units)."""

    t: int
    w: int
    h: int
    rotated: bool


# A column of a band is a stack of segments ((kind, n), ...): n prints of a kind one above the other, at
# most two kinds (e.g. one 1寸 turned above a 1.5寸 upright); its width is its widest kind's.
def _col_width(col) -> int:
    return max(k.w for k, _ in col)


def _pack_one(W: int, H: int, types: tuple[tuple[int, int], ...], counts: tuple[int, ...], rotate: bool):
    """Best guillotine packing of ``counts`` prints of ``types`` (grown w, h) into W × H: horizontal bands,
    each a row of columns, each column a stack of at most two kinds.

    Returns (value, bands) with bands = [(band_height, [column, ...]), ...]."""
    kinds: list[_Col] = []
    for t, (w, h) in enumerate(types):
        if w <= W and h <= H:
            kinds.append(_Col(t, w, h, False))
        if rotate and w != h and h <= W and w <= H:
            kinds.append(_Col(t, h, w, True))
    areas = [w * h for w, h in types]
    heights = sorted({m * k.h for k in kinds for m in range(1, H // k.h + 1)}, reverse=True)
    states = [0]

    def value(placed: tuple[int, ...], turned: int = 0) -> tuple[int, int, int]:
        # Most print area, then most prints, then fewest turned prints (easier to cut and sort).
        return sum(n * a for n, a in zip(placed, areas)), sum(placed), -turned

    def columns(hb: int, counts: tuple[int, ...]) -> list[tuple]:
        """Every column that fits a band of height hb: a stack of one kind, or of one kind above another
        filling the height left."""
        out = []
        for k1 in kinds:
            for n1 in range(1, min(hb // k1.h, counts[k1.t]) + 1):
                out.append(((k1, n1),))
                rest = hb - n1 * k1.h
                for k2 in kinds:
                    if k2 is k1:
                        continue
                    left = counts[k2.t] - (n1 if k2.t == k1.t else 0)
                    n2 = min(rest // k2.h, left)
                    if n2 > 0:
                        out.append(((k1, n1), (k2, n2)))
        return out

    @lru_cache(maxsize=None)
    def band_fills(hb: int, counts: tuple[int, ...]):
        """Distinct placed-count vectors achievable in a band of height hb, each with the narrowest row of
        columns found for it (then the fewest turned prints)."""
        cols = columns(hb, counts)
        zero = (0,) * len(counts)
        reach: dict[tuple[int, ...], tuple[int, int, tuple]] = {zero: (0, 0, ())}
        frontier = [zero]
        while frontier:
            nxt = []
            for placed in frontier:
                width, turned, mix = reach[placed]
                for col in cols:
                    cw = _col_width(col)
                    if width + cw > W:
                        continue
                    p = list(placed)
                    for k, n in col:
                        p[k.t] += n
                    if any(a > c for a, c in zip(p, counts)):
                        continue
                    key = tuple(p)
                    cand = (width + cw, turned + sum(n for k, n in col if k.rotated), mix + (col,))
                    old = reach.get(key)
                    if old is None or cand[:2] < old[:2]:
                        if old is None:
                            nxt.append(key)
                        reach[key] = cand
            frontier = sorted(set(nxt))
        return tuple((placed, turned, mix) for placed, (_, turned, mix) in reach.items() if any(placed))

    @lru_cache(maxsize=None)
    def best(h_left: int, counts: tuple[int, ...]):
        states[0] += 1
        if states[0] > _MAX_BAND_STATES:
            raise _SearchTooLarge
        best_v, best_plan = (0, 0, 0), ()
        if not any(counts):
            return best_v, best_plan
        for hb in heights:
            if hb > h_left:
                continue
            for placed, turned, mix in band_fills(hb, counts):
                rest = tuple(c - p for c, p in zip(counts, placed))
                v_rest, plan_rest = best(h_left - hb, rest)
                v = value(placed, turned)
                v = (v[0] + v_rest[0], v[1] + v_rest[1], v[2] + v_rest[2])
                if v > best_v:
                    best_v, best_plan = v, ((hb, mix),) + plan_rest
            if best_v == value(counts):
                break  # everything placed upright: no better layout exists
        return best_v, best_plan

    try:
        return best(H, counts)
    except _SearchTooLarge:
        return _pack_greedy(W, H, kinds, counts, areas)


class _SearchTooLarge(Exception):
    pass


def _pack_greedy(W: int, H: int, cols: list[_Col], counts: tuple[int, ...], areas: list[int]):
    """Fallback for very large packages: bands of the tallest useful column, filled left to right."""
    counts = list(counts)
    bands = []
    h_left = H
    while any(counts):
        usable = [c for c in cols if counts[c.t] and c.h <= h_left]
        if not usable:
            break
        c = max(usable, key=lambda c: (areas[c.t], -c.w))
        hb = c.h * max(1, min(h_left // c.h, -(-counts[c.t] // max(1, W // c.w))))
        mix, w_left = [], W
        for k in sorted(usable, key=lambda k: -areas[k.t]):
            while counts[k.t] and k.w <= w_left and k.h <= hb:
                n = min(hb // k.h, counts[k.t])
                counts[k.t] -= n
                mix.append(((k, n),))
                w_left -= k.w
        bands.append((hb, tuple(mix)))
        h_left -= hb
    placed = [0] * len(areas)
    for _, mix in bands:
        for col in mix:
            for k, n in col:
                placed[k.t] += n
    turned = sum(n for _, mix in bands for col in mix for k, n in col if k.rotated)
    return (sum(n * a for n, a in zip(placed, areas)), sum(placed), -turned), tuple(bands)


def _layout_from_bands(bands, size_ids: list[str], sheet: PrintSize, style: SheetStyle, transposed: bool,
                       gap: int, margin: int) -> list[Placement]:
    """Turn the packer's bands (in grown units) into placements on the sheet, centred in the printable area."""
    boxes = []  # (t, x, y, w, h, rotated) in units, in the packer's frame
    y = 0
    for hb, mix in bands:
        x = 0
        for col in mix:
            dy = 0
            for k, n in col:
                for i in range(n):
                    boxes.append((k.t, x, y + dy + i * k.h, k.w - gap, k.h - gap, k.rotated))
                dy += n * k.h
            x += _col_width(col)
        y += hb
    if transposed:
        boxes = [(t, y, x, h, w, not r) for t, x, y, w, h, r in boxes]
    sw, sh = _u(sheet.width_mm), _u(sheet.height_mm)
    used_w = max((x + w for _, x, _, w, _, _ in boxes), default=0)
    used_h = max((y + h for _, _, y, _, h, _ in boxes), default=0)
    off_x = margin + (sw - 2 * margin - used_w) // 2
    off_y = margin + (sh - 2 * margin - used_h) // 2
    return [Placement(size_ids[t], (x + off_x) / _U, (y + off_y) / _U, w / _U, h / _U, r)
            for t, x, y, w, h, r in sorted(boxes, key=lambda b: (b[2], b[1]))]


def _check_style(style: SheetStyle) -> None:
    """Margins and gaps below zero would put prints off the sheet or over each other."""
    bad = {k: v for k, v in (("margin_mm", style.margin_mm), ("gap_mm", style.gap_mm), ("cut_line_px", style.cut_line_px))
           if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0)}
    if bad or not (isinstance(style.dpi, int) and style.dpi > 0):
        raise SheetError("sheet.bad_style", "相纸边距、间距、裁切线和分辨率须为非负数", "Sheet margins, gaps, cut lines and dpi must not be negative",
                         details={k: repr(v) for k, v in bad.items()} or {"dpi": repr(style.dpi)})


def plan_package(package: PrintPackage | str, sheet: PrintSize | str | None = None,
                 style: SheetStyle = DEFAULT_SHEET_STYLE, *, rotate: bool = True) -> list[SheetLayout]:
    """Place every print of ``package`` on as few sheets as the packer finds (sheet: the package's own
    unless given). Raises :class:`SheetError` when a print cannot fit on the sheet at all."""
    pkg = _package(package)
    sh = _sheet(sheet if sheet is not None else pkg.sheet)
    _check_style(style)
    merged: dict[str, int] = {}
    for sid, n in pkg.items:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise SheetError("sheet.bad_count", "照片数量须为非负整数", "Print counts must be whole numbers, 0 or more",
                             details={"size": sid, "count": repr(n)})
        merged[sid] = merged.get(sid, 0) + int(n)
    if not any(merged.values()):
        raise SheetError("sheet.empty_package", "冲印套餐中没有照片", "The print package is empty")
    size_ids = [sid for sid in merged if merged[sid] > 0]
    sizes = [_print_size(sid) for sid in size_ids]
    gap, margin = _u(style.gap_mm), _u(style.margin_mm)
    W, H = _u(sh.width_mm) - 2 * margin + gap, _u(sh.height_mm) - 2 * margin + gap
    types = tuple((_u(p.width_mm) + gap, _u(p.height_mm) + gap) for p in sizes)
    for p, (w, h) in zip(sizes, types):
        fits = (w <= W and h <= H) or (rotate and h <= W and w <= H)
        if not fits:
            raise SheetError(
                "sheet.item_too_large", f"{p.name_zh}（{p.width_mm:g}×{p.height_mm:g} mm）放不进{sh.name_zh}相纸",
                f"A {p.width_mm:g}×{p.height_mm:g} mm print does not fit on a {sh.id} sheet "
                f"({sh.width_mm:g}×{sh.height_mm:g} mm, {style.margin_mm:g} mm margins)",
                details={"size": p.id, "sheet": sh.id})
    counts = tuple(merged[sid] for sid in size_ids)

    @lru_cache(maxsize=None)
    def pack(c: tuple[int, ...]):
        """(placed count per type, placements) of the best one-sheet layout for counts ``c``."""
        upright = _pack_one(W, H, types, c, rotate)
        across = _pack_one(H, W, types, c, rotate)   # bands running the other way
        (v, bands), transposed = (upright, False) if upright[0] >= across[0] else (across, True)
        placements = _layout_from_bands(bands, size_ids, sh, style, transposed, gap, margin)
        return tuple(sum(1 for p in placements if p.size_id == sid) for sid in size_ids), placements

    # Sheet by sheet, each holding as much as it can ...
    layouts: list[SheetLayout] = []
    left = counts
    while any(left):
        placed, placements = pack(left)
        if not any(placed):  # cannot happen after the fit check above; never loop forever
            raise SheetError("sheet.item_too_large", "照片放不进相纸", "The prints do not fit on the sheet")
        layouts.append(SheetLayout(sh.id, sh.width_mm, sh.height_mm, list(placements)))
        done = {sid: 0 for sid in size_ids}
        for p in placements:
            done[p.size_id] += 1
        left = tuple(c - done[sid] for c, sid in zip(left, size_ids))
    # ... can leave a last sheet that a split by capacity avoids (10 × 1寸 + 11 × 1.5寸: a full sheet of
    # 8 + 4, then 2 + 7 that need two more; 6 + 5 and 4 + 6 fit one sheet each).
    area = sum(n * w * h for n, (w, h) in zip(counts, types))
    for n_sheets in range(max(1, -(-area // (W * H))), len(layouts)):
        split = _split_by_capacity(counts, n_sheets, pack)
        if split is not None:
            # pack() is cached: two sheets with the same share must not share one list of placements.
            return [SheetLayout(sh.id, sh.width_mm, sh.height_mm, list(placements)) for placements in split]
    return layouts


def _split_by_capacity(counts: tuple[int, ...], n_sheets: int, pack):
    """Placements for ``n_sheets`` sheets holding all of ``counts``, or None: every type but one (the
    filler) shared out evenly, the filler given to each sheet up to what fits beside its share; each type
    in turn is the filler. ``pack(counts) -> (placed per type, placements)``."""
    for f in range(len(counts)):
        shares = [[c // n_sheets + (i < c % n_sheets) for c in counts] for i in range(n_sheets)]
        need = counts[f]
        for sh_ in shares:
            sh_[f] = 0
        for sh_ in shares:
            # The most of the filler that fits beside this sheet's share (binary search: the packer
            # maximises print area, so offering all of them could crowd the share out).
            lo, hi = -1, need
            while lo < hi:
                mid = (lo + hi + 1) // 2
                offer = tuple(mid if t == f else n for t, n in enumerate(sh_))
                if pack(offer)[0] == offer:
                    lo = mid
                else:
                    hi = mid - 1
            if lo < 0:
                break                   # this sheet's share does not fit even without the filler
            sh_[f] = lo
            need -= lo
        if need:
            continue
        out = []
        for sh_ in shares:
            placed, placements = pack(tuple(sh_))
            if list(placed) != sh_:
                break
            out.append(placements)
        else:
            return out
    return None


# --- rendering ----------------------------------------------------------------------------------

def _load_photo(photo) -> Image.Image:
    im = _read_photo(photo)
    w, h = im.size
    if w < CHSI.width or h < CHSI.height or abs(w * CHSI.height - h * CHSI.width) > 0.01 * w * CHSI.height:
        # Prints are cut from the normalised photo; an original would be cropped blindly around its centre.
        raise SheetError("sheet.bad_photo", f"要冲印的须是规范化后的照片（{CHSI.width}×{CHSI.height}），收到 {w}×{h}",
                         f"Print from the normalised photo ({CHSI.width}×{CHSI.height}); got {w}×{h}",
                         details={"size": [w, h]})
    return im


def _read_photo(photo) -> Image.Image:
    try:
        if isinstance(photo, Image.Image):
            im = photo
        elif isinstance(photo, np.ndarray):
            if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
                raise ValueError("need an H×W×3 uint8 RGB array")
            im = Image.fromarray(photo, "RGB")
        elif isinstance(photo, (bytes, bytearray, memoryview, str, os.PathLike)):
            # The same safe decoder as the checks: size limits, EXIF orientation, 16-bit and CMYK
            # samples, transparency on white, colours to sRGB.
            from tucai.photo.decode import PhotoError, load_full

            try:
                return Image.fromarray(load_full(bytes(photo) if isinstance(photo, memoryview) else photo).rgb, "RGB")
            except PhotoError as e:
                raise SheetError("sheet.bad_photo", f"无法读取要冲印的照片：{e.message_zh}",
                                 f"Cannot read the photo to print: {e.message_en}", details={"error": e.code}) from None
        else:
            raise TypeError(type(photo).__name__)
        im = ImageOps.exif_transpose(im)
        return im.convert("RGB") if im.mode != "RGB" else im
    except (OSError, ValueError, TypeError, SyntaxError) as e:
        raise SheetError("sheet.bad_photo", "无法读取要冲印的照片", "Cannot read the photo to print",
                         details={"error": str(e)}) from None


def _tile(photo: Image.Image, size: PrintSize, rotated: bool, dpi: int) -> Image.Image:
    """The photo cropped to the print's aspect around its centre, resized to the print's pixels and
    turned with its box when the print lies rotated on the sheet."""
    pw, ph = size.px(dpi)
    w, h = photo.size
    target = size.width_mm / size.height_mm
    if w / h > target:        # photo wider than the print: trim the sides (480×640 → 33×48: ~20 px each)
        cw = h * target
        box = ((w - cw) / 2, 0, (w + cw) / 2, h)
    else:                     # taller: trim top and bottom
        chh = w / target
        box = (0, (h - chh) / 2, w, (h + chh) / 2)
    tile = photo.resize((pw, ph), Image.LANCZOS, box=box)
    return tile.transpose(Image.ROTATE_90) if rotated else tile


def _tiles(photo: Image.Image, layout: SheetLayout, dpi: int) -> dict[tuple[str, bool], Image.Image]:
    return {(p.size_id, p.rotated): _tile(photo, _print_size(p.size_id), p.rotated, dpi)
            for p in layout.placements}


def render_sheet(photo, layout: SheetLayout, style: SheetStyle = DEFAULT_SHEET_STYLE) -> Image.Image:
    """The sheet as an RGB image at ``style.dpi``: white paper, thin grey cut lines just outside each box."""
    im = _load_photo(photo)
    dpi = style.dpi
    sheet = Image.new("RGB", layout.px_size(dpi), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    lw = style.cut_line_px
    boxes = [(p, p.px_box(dpi)) for p in layout.placements]
    if lw > 0:
        # Lines first, photos over them: a line never covers a photo pixel, even with zero gaps.
        for _, (x0, y0, x1, y1) in boxes:
            draw.rectangle((x0 - lw, y0 - lw, x1 - 1 + lw, y1 - 1 + lw), outline=style.cut_line_rgb, width=lw)
    tiles = _tiles(im, layout, dpi)
    for p, (x0, y0, x1, y1) in boxes:
        tile = tiles[(p.size_id, p.rotated)]
        assert tile.size == (x1 - x0, y1 - y0)
        sheet.paste(tile, (x0, y0))
    sheet.info["dpi"] = (dpi, dpi)
    return sheet


def render_jpeg(photo, layout: SheetLayout, style: SheetStyle = DEFAULT_SHEET_STYLE, *, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    render_sheet(photo, layout, style).save(buf, format="JPEG", quality=quality, dpi=(style.dpi, style.dpi),
                                            subsampling=0, optimize=True)
    return buf.getvalue()


def render_png(photo, layout: SheetLayout, style: SheetStyle = DEFAULT_SHEET_STYLE) -> bytes:
    buf = io.BytesIO()
    render_sheet(photo, layout, style).save(buf, format="PNG", dpi=(style.dpi, style.dpi))
    return buf.getvalue()


def render_pdf(photo, layouts: list[SheetLayout], style: SheetStyle = DEFAULT_SHEET_STYLE) -> bytes:
    """All sheets in one PDF: each page exactly the sheet size, each photo at its exact mm position
    (embedded once per print size as a 300 dpi JPEG), cut lines as hairline rectangles outside the boxes."""
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    if not layouts:
        raise SheetError("sheet.empty_package", "没有要输出的相纸", "No sheets to render")
    im = _load_photo(photo)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(layouts[0].width_mm * mm, layouts[0].height_mm * mm), invariant=1)
    c.setTitle("tucai print sheet")
    c.setCreator("tucai")
    lw_pt = style.cut_line_px * 72.0 / style.dpi
    readers: dict[tuple[str, bool], ImageReader] = {}
    for layout in layouts:
        c.setPageSize((layout.width_mm * mm, layout.height_mm * mm))
        H = layout.height_mm
        if lw_pt > 0:
            c.setLineWidth(lw_pt)
            c.setStrokeColorRGB(*(v / 255 for v in style.cut_line_rgb))
            for p in layout.placements:
                o = lw_pt / 2  # stroke centred half a line outside the box edge
                c.rect(p.x_mm * mm - o, (H - p.y_mm - p.h_mm) * mm - o, p.w_mm * mm + 2 * o, p.h_mm * mm + 2 * o,
                       stroke=1, fill=0)
        for p in layout.placements:
            key = (p.size_id, p.rotated)
            if key not in readers:
                jb = io.BytesIO()
                _tile(im, _print_size(p.size_id), p.rotated, style.dpi).save(
                    jb, format="JPEG", quality=style.tile_jpeg_quality, subsampling=0, dpi=(style.dpi, style.dpi))
                jb.seek(0)
                readers[key] = ImageReader(jb)
            c.drawImage(readers[key], p.x_mm * mm, (H - p.y_mm - p.h_mm) * mm, width=p.w_mm * mm,
                        height=p.h_mm * mm)
        c.showPage()
    c.save()
    return buf.getvalue()


def _atomic_write_all(files: list[tuple[Path, bytes]]) -> None:
    """Write every file to a temp file beside it, then move them all into place (no half-written sheet)."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in files:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((tmp, path))
            os.fchmod(fd, 0o644)  # mkstemp makes 0600; a print file is meant to be read by the print station
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        for tmp, path in temps:
            os.replace(tmp, path)
        temps = []
    finally:
        for tmp, _ in temps:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass


def make_package(photo, *, package_id: str = "default", sheet_id: str | None = None, out_path: str | os.PathLike,
                 style: SheetStyle = DEFAULT_SHEET_STYLE) -> list[Path]:
    """Lay out a package and write it: ``.pdf`` (all sheets in one file) or ``.jpg``/``.jpeg``/``.png``
    (one file per sheet, suffixed -1, -2 … when there are several). Returns the written paths."""
    out = Path(out_path)
    fmt = out.suffix.lower()
    if fmt not in (".pdf", ".jpg", ".jpeg", ".png"):
        raise SheetError("sheet.bad_format", "输出文件须为 .pdf、.jpg 或 .png", "The output must be .pdf, .jpg or .png",
                         details={"suffix": out.suffix})
    if not out.parent.is_dir():
        raise SheetError("sheet.bad_output", f"输出目录不存在：{out.parent}", f"Output folder does not exist: {out.parent}")
    im = _load_photo(photo)
    layouts = plan_package(package_id, sheet_id, style)
    if fmt == ".pdf":
        files = [(out, render_pdf(im, layouts, style))]
    else:
        render = render_png if fmt == ".png" else render_jpeg
        paths = [out] if len(layouts) == 1 else [out.with_name(f"{out.stem}-{i}{out.suffix}")
                                                  for i in range(1, len(layouts) + 1)]
        files = [(p, render(im, lay, style)) for p, lay in zip(paths, layouts)]
    try:
        _atomic_write_all(files)
    except OSError as e:
        raise SheetError("sheet.write_failed", f"无法写入输出文件：{e}", f"Cannot write the output: {e}") from None
    if fmt != ".pdf":
        _remove_stale_sheets(out, {p for p, _ in files}, style.dpi, photo)
    return [p for p, _ in files]


def _remove_stale_sheets(out: Path, written: set[Path], dpi: int, photo) -> None:
    """Sheets an earlier run wrote under the same name (OUT.jpg, OUT-1.jpg …) that this run did not:
    left beside the new ones they would be printed with them. Only a regular file that is a sheet-sized
    image at this dpi goes, never the photo being printed (``zhang-1.jpg`` printed to ``zhang.jpg``)."""
    import re

    src = Path(photo).resolve() if isinstance(photo, (str, os.PathLike)) else None
    sheet_px = {px for s in SHEET_SIZES.values()
                for px in ((mm_to_px(s.width_mm, dpi), mm_to_px(s.height_mm, dpi)),
                           (mm_to_px(s.height_mm, dpi), mm_to_px(s.width_mm, dpi)))}
    pattern = re.compile(rf"{re.escape(out.stem)}(-[1-9][0-9]*)?{re.escape(out.suffix)}")
    for p in out.parent.iterdir():
        if p in written or not pattern.fullmatch(p.name) or p.is_symlink() or not p.is_file():
            continue
        if src is not None and p.resolve() == src:
            continue
        try:
            with Image.open(p) as im:
                if im.size not in sheet_px:
                    continue
            p.unlink()
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            continue


def sheet_pt_size(layout: SheetLayout) -> tuple[float, float]:
    """The sheet in PDF points (what the PDF's MediaBox must say)."""
    return layout.width_mm / MM_PER_INCH * 72, layout.height_mm / MM_PER_INCH * 72


__all__ = ["SheetError", "Placement", "SheetLayout", "plan_package", "render_sheet", "render_jpeg", "render_png",
           "render_pdf", "make_package", "sheet_pt_size"]
