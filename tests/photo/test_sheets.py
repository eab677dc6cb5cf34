"""Print sheets: layout invariants in millimetres, the minimum number of sheets, rotation, rendering, PDF."""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
from dataclasses import replace
from itertools import combinations

import numpy as np
import pytest
from PIL import Image

from tucai.photo.sheets import (
    SheetError, make_package, plan_package, render_jpeg, render_pdf, render_sheet, sheet_pt_size,
)
from tucai.photo.spec import (
    DEFAULT_SHEET_STYLE, PRINT_PACKAGES, PRINT_SIZES, SHEET_SIZES, PrintPackage, PrintSize, mm_to_px,
)

EPS = 1e-9
GREEN = (0, 200, 0)
RED = (230, 0, 0)
STRIPE = (0, 0, 255)


@pytest.fixture
def photo() -> Image.Image:
    """A 480×640 stand-in for a normalised photo: grey, a green bar along the top, a red block in the
    top-left corner (to tell rotation from mirroring) and blue stripes 18 px wide on both sides."""
    a = np.full((640, 480, 3), 170, np.uint8)
    a[:40] = GREEN
    a[:80, :100] = RED
    a[:, :18] = STRIPE
    a[:, -18:] = STRIPE
    return Image.fromarray(a, "RGB")


def all_placements(layouts):
    return [p for lay in layouts for p in lay.placements]


def assert_valid_layout(layouts, package: PrintPackage, style=DEFAULT_SHEET_STYLE):
    want = dict(package.items)
    got: dict[str, int] = {}
    for lay in layouts:
        sheet = SHEET_SIZES[lay.sheet_id]
        assert (lay.width_mm, lay.height_mm) == (sheet.width_mm, sheet.height_mm)
        for p in lay.placements:
            got[p.size_id] = got.get(p.size_id, 0) + 1
            size = PRINT_SIZES[p.size_id]
            dims = (size.height_mm, size.width_mm) if p.rotated else (size.width_mm, size.height_mm)
            assert (p.w_mm, p.h_mm) == dims                                   # exact mm, no scaling
            # Inside the printable area.
            assert p.x_mm >= style.margin_mm - EPS and p.y_mm >= style.margin_mm - EPS
            assert p.x_mm + p.w_mm <= lay.width_mm - style.margin_mm + EPS
            assert p.y_mm + p.h_mm <= lay.height_mm - style.margin_mm + EPS
            # Positions on the 0.01 mm grid: exact, no float drift.
            assert abs(p.x_mm * 100 - round(p.x_mm * 100)) < 1e-6 and abs(p.y_mm * 100 - round(p.y_mm * 100)) < 1e-6
            # Pixel boxes have exactly mm_to_px of the print's sides.
            x0, y0, x1, y1 = p.px_box(style.dpi)
            assert (x1 - x0, y1 - y0) == (mm_to_px(p.w_mm, style.dpi), mm_to_px(p.h_mm, style.dpi))
        for a, b in combinations(lay.placements, 2):
            # No overlap, and at least one gap between neighbours (room for the cut).
            sep_x = max(b.x_mm - (a.x_mm + a.w_mm), a.x_mm - (b.x_mm + b.w_mm))
            sep_y = max(b.y_mm - (a.y_mm + a.h_mm), a.y_mm - (b.y_mm + b.h_mm))
            assert max(sep_x, sep_y) >= style.gap_mm - EPS, (a, b)
            ax0, ay0, ax1, ay1 = a.px_box(style.dpi)
            bx0, by0, bx1, by1 = b.px_box(style.dpi)
            # Pixel boxes keep their exact size, so with no gap at all neighbours may share one rounding
            # pixel (1/300 inch); with any gap they never touch.
            tol = 1 if style.gap_mm == 0 else 0
            assert ax1 - tol <= bx0 or bx1 - tol <= ax0 or ay1 - tol <= by0 or by1 - tol <= ay0
    assert got == want


PACKAGES = [
    PRINT_PACKAGES["default"],
    PrintPackage("mixed", (("1inch", 6), ("1.5inch", 2), ("2inch", 2), ("small2inch", 2)), "6inch"),
    PrintPackage("many", (("1inch", 16),), "6inch"),
    PrintPackage("a4", (("1inch", 20), ("2inch", 8)), "a4"),
]


@pytest.mark.parametrize("sheet", [None, "5inch", "a4"])
@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.id)
@pytest.mark.parametrize("style", [DEFAULT_SHEET_STYLE, replace(DEFAULT_SHEET_STYLE, gap_mm=0.5, margin_mm=3)],
                         ids=["default-style", "tight-gaps"])
def test_layouts_are_inside_the_sheet_without_overlaps_in_exact_mm(package, sheet, style):
    layouts = plan_package(package, sheet, style)
    assert layouts
    assert_valid_layout(layouts, package, style)
    # Never more sheets than the trivial one-size-per-sheet bound, and at least the area bound.
    assert len(layouts) >= area_lower_bound(package, layouts[0].sheet_id, style)


# --- the minimum number of sheets ------------------------------------------------------------

def area_lower_bound(package: PrintPackage, sheet_id: str, style) -> int:
    """Boxes grown by one gap must fit the printable area grown by one gap."""
    s = SHEET_SIZES[sheet_id]
    g, m = style.gap_mm, style.margin_mm
    avail = (s.width_mm - 2 * m + g) * (s.height_mm - 2 * m + g)
    need = sum(n * (PRINT_SIZES[sid].width_mm + g) * (PRINT_SIZES[sid].height_mm + g) for sid, n in package.items)
    return max(1, math.ceil(need / avail - 1e-9))


def one_sheet_impossible_by_cross_sections(package: PrintPackage, sheet_id: str, style) -> bool:
    """A proof that the package cannot go on ONE sheet, independent of the packer.

    In the grown model (every box and the printable area grown by one gap), boxes tile part of the
    area and the rest is waste; the total waste is ``slack`` = area − Σ box areas. Take a straight line
    across the area (length L) crossing a box of type t: the boxes it crosses have a total length that is
    a sum of grown sides (each box contributes its width or its height, depending on its turn), with at
    least one of type t. If the largest such sum ≤ L is L − δ, every such line wastes ≥ δ, and the lines
    crossing type-t boxes sweep at least the type's shorter grown side, so waste ≥ δ · short side. If that
    exceeds the slack for some t and some direction, one sheet is impossible."""
    s = SHEET_SIZES[sheet_id]
    g, m = style.gap_mm, style.margin_mm
    U = 100
    W, H = round((s.width_mm - 2 * m + g) * U), round((s.height_mm - 2 * m + g) * U)
    items = [(round((PRINT_SIZES[sid].width_mm + g) * U), round((PRINT_SIZES[sid].height_mm + g) * U), n)
             for sid, n in package.items]
    slack = W * H - sum(w * h * n for w, h, n in items)
    if slack < 0:
        return True
    for L in (W, H):
        for t, (tw, th, _) in enumerate(items):
            best = -1
            for first in (tw, th):                      # the type-t box the line crosses
                if first > L:
                    continue
                reach = 1 << first                      # bitset of reachable sums
                for i, (w, h, n) in enumerate(items):
                    for _ in range(n - (1 if i == t else 0)):
                        reach |= (reach << w) | (reach << h)
                        reach &= (1 << (L + 1)) - 1
                best = max(best, reach.bit_length() - 1)
            if best < 0:
                continue
            waste = (L - best) * min(tw, th)
            if waste > slack:
                return True
    return False


def test_default_package_needs_exactly_two_6inch_sheets_with_2mm_gaps():
    pkg = PRINT_PACKAGES["default"]
    style = replace(DEFAULT_SHEET_STYLE, gap_mm=2.0, margin_mm=2.0)
    # Area alone would allow one sheet (14 992 of 15 000 mm² after growing by the gap) ...
    assert area_lower_bound(pkg, "6inch", style) == 1
    # ... but no row of grown 1寸/1.5寸 sides adds up to the sheet width, so one sheet is impossible.
    assert one_sheet_impossible_by_cross_sections(pkg, "6inch", style)
    layouts = plan_package(pkg, style=style)
    assert len(layouts) == 2                       # = the proven minimum
    assert_valid_layout(layouts, pkg, style)
    assert layouts[0].counts() == {"1inch": 7, "1.5inch": 4}    # the first sheet takes all but one print


@pytest.mark.parametrize("style", [DEFAULT_SHEET_STYLE, replace(DEFAULT_SHEET_STYLE, gap_mm=1.0),
                                   replace(DEFAULT_SHEET_STYLE, gap_mm=2.0, margin_mm=1.5),
                                   replace(DEFAULT_SHEET_STYLE, gap_mm=0)],
                         ids=["default-gap1.5", "gap1", "margin1.5", "gap0"])
def test_default_package_fits_one_6inch_sheet_when_the_gaps_allow(style):
    pkg = PRINT_PACKAGES["default"]
    assert not one_sheet_impossible_by_cross_sections(pkg, "6inch", style)
    layouts = plan_package(pkg, style=style)
    assert len(layouts) == 1
    assert_valid_layout(layouts, pkg, style)
    assert any(p.rotated for p in layouts[0].placements)      # only possible with turned prints


def test_rotation_is_used_when_it_fits_more():
    pkg = PrintPackage("five", (("1.5inch", 5),), "5inch")
    turned = plan_package(pkg)
    straight = plan_package(pkg, rotate=False)
    assert len(turned) == 1 and len(straight) == 2
    assert_valid_layout(turned, pkg)
    assert_valid_layout(straight, pkg)
    assert any(p.rotated for p in turned[0].placements) and not any(p.rotated for p in all_placements(straight))


def test_no_rotation_when_it_does_not_help():
    layouts = plan_package(PRINT_PACKAGES["default"], "a4")
    assert len(layouts) == 1 and not any(p.rotated for p in layouts[0].placements)


def test_prints_that_cannot_fit_are_refused():
    tiny = PrintSize("tiny", "小纸", 30, 40)
    with pytest.raises(SheetError) as ei:
        plan_package(PrintPackage("p", (("2inch", 1),)), tiny)
    assert ei.value.code == "sheet.item_too_large" and ei.value.message_zh
    with pytest.raises(SheetError) as ei:
        plan_package("nope")
    assert ei.value.code == "sheet.unknown_package"
    with pytest.raises(SheetError) as ei:
        plan_package("default", "7inch")
    assert ei.value.code == "sheet.unknown_sheet"
    with pytest.raises(SheetError) as ei:
        plan_package(PrintPackage("p", (("3inch", 1),)))
    assert ei.value.code == "sheet.unknown_size"


# --- rendering -------------------------------------------------------------------------------

def colour_close(px, rgb, tol=40) -> bool:
    return sum(abs(int(a) - b) for a, b in zip(px, rgb)) <= tol


def test_rendered_sheet_has_exact_pixel_boxes_and_cut_lines(photo, artifacts_dir):
    style = replace(DEFAULT_SHEET_STYLE, gap_mm=1.5)
    [layout] = plan_package("default", style=style)
    im = render_sheet(photo, layout, style)
    im.save(artifacts_dir / "sheet-default-6inch.png", dpi=(300, 300))
    assert im.size == (mm_to_px(102), mm_to_px(152)) == (1205, 1795)
    a = np.asarray(im)
    for p in layout.placements:
        x0, y0, x1, y1 = p.px_box()
        box = a[y0:y1, x0:x1]
        # The photo fills the box to its edges (grey body reaches the centre) ...
        assert colour_close(box[box.shape[0] // 2, box.shape[1] // 2], (170, 170, 170))
        # ... and the cut line runs just outside it, not over it.
        line = style.cut_line_rgb
        assert colour_close(a[y0 - 1, (x0 + x1) // 2], line, 6) and colour_close(a[y1, (x0 + x1) // 2], line, 6)
        assert colour_close(a[(y0 + y1) // 2, x0 - 1], line, 6) and colour_close(a[(y0 + y1) // 2, x1], line, 6)
        assert not colour_close(a[y0, (x0 + x1) // 2], line, 6)
        if not p.rotated:
            # Upright: green along the top, red block top-left (not mirrored).
            assert colour_close(box[5, box.shape[1] // 2], GREEN)
            assert colour_close(box[20, 40], RED)
            assert not colour_close(box[20, box.shape[1] - 40], RED)
        else:
            # Turned by 90° with its box (counter-clockwise): the photo's top is on the left edge and its
            # top-left corner at the bottom-left; a mirror image would put it top-left.
            assert colour_close(box[box.shape[0] // 2, 5], GREEN)
            assert colour_close(box[box.shape[0] - 40, 20], RED)
            assert not colour_close(box[40, 20], RED)


def test_tiles_are_cropped_to_the_print_aspect_around_the_centre(photo):
    style = replace(DEFAULT_SHEET_STYLE, gap_mm=1.5)
    [layout] = plan_package(PrintPackage("p", (("1inch", 1), ("1.5inch", 1)), "6inch"), style=style)
    a = np.asarray(render_sheet(photo, layout, style))
    for p in layout.placements:
        x0, y0, x1, y1 = p.px_box()
        mid = a[(y0 + y1) // 2, x0:x1] if not p.rotated else a[y0:y1, (x0 + x1) // 2]
        blue = sum(colour_close(px, STRIPE, 60) for px in mid)
        if p.size_id == "1.5inch":
            # 480 × 33/48 = 440 px of width: 20 px trimmed from each side, so the 18 px stripes are gone.
            assert blue <= 2
        else:
            # 1寸 trims only ~11 px a side: about 6.6 px of each stripe remains (~4 px at the print's scale).
            assert blue >= 2 * 3


TWO_SHEET_STYLE = replace(DEFAULT_SHEET_STYLE, gap_mm=2.0)   # the default package then needs two sheets


def test_pdf_pages_are_the_sheet_size_and_place_photos_at_exact_mm(photo, artifacts_dir):
    layouts = plan_package("default", style=TWO_SHEET_STYLE)
    pdf = render_pdf(photo, layouts, TWO_SHEET_STYLE)
    boxes = re.findall(rb"/MediaBox \[\s*([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(boxes) == 2
    want = sheet_pt_size(layouts[0])
    assert want == pytest.approx((102 / 25.4 * 72, 152 / 25.4 * 72))
    for b in boxes:
        x0, y0, x1, y1 = map(float, b)
        assert (x0, y0) == (0, 0) and x1 == pytest.approx(want[0], abs=1e-3) and y1 == pytest.approx(want[1], abs=1e-3)
    # The photos are embedded once per print kind and orientation, not once per print.
    assert pdf.count(b"/Subtype /Image") == len({(p.size_id, p.rotated) for p in all_placements(layouts)})
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm not installed")
    (artifacts_dir / "sheet-default.pdf").write_bytes(pdf)
    out = artifacts_dir / "sheet-default-pdf"
    subprocess.run(["pdftoppm", "-r", "300", "-png", "-f", "1", "-l", "1", str(artifacts_dir / "sheet-default.pdf"),
                    str(out)], check=True)
    png = next(artifacts_dir.glob("sheet-default-pdf*.png"))
    a = np.asarray(Image.open(png).convert("RGB"))
    assert abs(a.shape[1] - 1205) <= 1 and abs(a.shape[0] - 1795) <= 1
    for p in layouts[0].placements:
        x0, y0, x1, y1 = p.px_box()
        # Inside the box the photo, one pixel beyond the gap's middle plain paper: placed where planned.
        assert colour_close(a[(y0 + y1) // 2, (x0 + x1) // 2], (170, 170, 170))
        assert colour_close(a[y0 + 10, x0 + 10], RED if not p.rotated else GREEN, 70)
        gx = x1 + mm_to_px(TWO_SHEET_STYLE.gap_mm) // 2
        if gx < a.shape[1] and not any(q.px_box()[0] <= gx < q.px_box()[2] and q.px_box()[1] <= (y0 + y1) // 2 <
                                       q.px_box()[3] for q in layouts[0].placements):
            assert colour_close(a[(y0 + y1) // 2, gx], (255, 255, 255), 10)


def test_make_package_writes_pdf_or_one_image_per_sheet_atomically(photo, tmp_path):
    buf = io.BytesIO()
    photo.save(buf, format="JPEG", quality=95)
    jpeg = buf.getvalue()
    [pdf] = make_package(jpeg, out_path=tmp_path / "prints.pdf")
    assert pdf == tmp_path / "prints.pdf" and pdf.read_bytes().startswith(b"%PDF")
    [one] = make_package(np.asarray(photo), out_path=tmp_path / "single.jpg")   # default style: one 6寸 sheet
    assert one.name == "single.jpg"
    jpgs = make_package(np.asarray(photo), out_path=tmp_path / "prints.jpg", style=TWO_SHEET_STYLE)
    assert [p.name for p in jpgs] == ["prints-1.jpg", "prints-2.jpg"]
    for p in jpgs:
        with Image.open(p) as im:
            assert im.size == (1205, 1795) and im.format == "JPEG"
            assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)
    src = tmp_path / "photo.jpg"
    src.write_bytes(jpeg)
    [one] = make_package(src, sheet_id="a4", out_path=tmp_path / "a4.png")
    with Image.open(one) as im:
        assert im.size == (mm_to_px(210), mm_to_px(297))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]     # no temp files left behind


def test_make_package_refuses_bad_requests_and_writes_nothing(photo, tmp_path):
    cases = [
        (dict(photo=photo, out_path=tmp_path / "x.gif"), "sheet.bad_format"),
        (dict(photo=b"not an image", out_path=tmp_path / "x.pdf"), "sheet.bad_photo"),
        (dict(photo=photo, out_path=tmp_path / "missing" / "x.pdf"), "sheet.bad_output"),
        (dict(photo=photo, package_id="nope", out_path=tmp_path / "x.pdf"), "sheet.unknown_package"),
    ]
    for kw, code in cases:
        p = kw.pop("photo")
        with pytest.raises(SheetError) as ei:
            make_package(p, **kw)
        assert ei.value.code == code
    assert list(tmp_path.iterdir()) == []


def test_render_jpeg_is_a_300dpi_sheet(photo):
    [layout] = plan_package("default", "a4")
    data = render_jpeg(photo, layout)
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (2480, 3508) and im.mode == "RGB"
        assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)


def test_photos_to_print_go_through_the_safe_decoder(tmp_path):
    from tucai.photo.sheets import _read_photo

    # A tiny file declaring 20 000 × 20 000 pixels: refused as a sheet error, not Pillow's bomb exception.
    bomb = io.BytesIO()
    Image.new("L", (1, 1)).save(bomb, "PNG")
    data = bytearray(bomb.getvalue())
    data[16:24] = (20000).to_bytes(4, "big") * 2
    with pytest.raises(SheetError) as ei:
        make_package(bytes(data), out_path=tmp_path / "x.jpg")
    assert ei.value.code == "sheet.bad_photo" and list(tmp_path.iterdir()) == []
    # 16-bit grey prints as the grey it is (not clipped to white); transparency on white, not what hides under it.
    b16 = io.BytesIO()
    Image.fromarray(np.full((64, 48), 200 * 257, np.uint16)).save(b16, "PNG")
    assert np.asarray(_read_photo(b16.getvalue()))[32, 24].tolist() == [200, 200, 200]
    rgba = np.zeros((64, 48, 4), np.uint8)
    rgba[..., 0] = 255                         # red, fully transparent
    b = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(b, "PNG")
    assert np.asarray(_read_photo(b.getvalue()))[32, 24].tolist() == [255, 255, 255]


def test_bad_sheet_requests_are_refused_with_a_code(photo, tmp_path):
    from dataclasses import replace as dc_replace

    from tucai.photo.spec import DEFAULT_SHEET_STYLE, PrintPackage

    cases = [
        (dict(photo=np.zeros((1, 1, 3), np.uint8)), "sheet.bad_photo"),            # would be enlarged to every print
        (dict(photo=np.zeros((4000, 6000, 3), np.uint8)), "sheet.bad_photo"),      # an original, not the normalised photo
        (dict(style=dc_replace(DEFAULT_SHEET_STYLE, gap_mm=-5)), "sheet.bad_style"),   # prints over each other
        (dict(style=dc_replace(DEFAULT_SHEET_STYLE, margin_mm=-5)), "sheet.bad_style"),  # prints off the sheet
    ]
    for kw, code in cases:
        kw.setdefault("photo", photo)
        with pytest.raises(SheetError) as ei:
            make_package(out_path=tmp_path / "x.pdf", **kw)
        assert ei.value.code == code, kw
    for count, code in ((2.5, "sheet.bad_count"), ("3", "sheet.bad_count"), (True, "sheet.bad_count"), (-1, "sheet.bad_count")):
        with pytest.raises(SheetError) as ei:
            plan_package(PrintPackage("t", (("1inch", count), ("1.5inch", -2))))
        assert ei.value.code == code, count
    with pytest.raises(SheetError) as ei:
        plan_package(PrintPackage("t", (("1inch", 0),)))
    assert ei.value.code == "sheet.empty_package"
    assert list(tmp_path.iterdir()) == []


def test_sheets_of_an_earlier_run_under_the_same_name_are_not_left_behind(photo, tmp_path):
    two = make_package(photo, sheet_id="5inch", out_path=tmp_path / "s.jpg")
    assert [p.name for p in two] == ["s-1.jpg", "s-2.jpg"]
    (tmp_path / "s-notes.jpg").write_bytes(b"kept")          # not a sheet name: left alone
    one = make_package(photo, out_path=tmp_path / "s.jpg")
    assert [p.name for p in one] == ["s.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s-notes.jpg", "s.jpg"]


@pytest.mark.parametrize("counts, sheets_needed", [((6, 5), 1), ((10, 11), 2), ((14, 9), 2)])
def test_columns_may_stack_two_kinds_and_sheets_are_split_by_capacity(counts, sheets_needed):
    # 6 × 1寸 + 5 × 1.5寸 fit one 6寸 sheet only with a column holding a turned 1寸 above an upright
    # 1.5寸; 10 + 11 fit two only as 6 + 5 and 4 + 6 (a full first sheet of 8 + 4 leaves 2 + 7 for two).
    package = PrintPackage("t", (("1inch", counts[0]), ("1.5inch", counts[1])), "6inch")
    layouts = plan_package(package)
    assert len(layouts) == sheets_needed
    assert_valid_layout(layouts, package, DEFAULT_SHEET_STYLE)


def test_only_sheet_images_of_an_earlier_run_are_removed(photo, tmp_path):
    # The photo being printed, and any other image under a sheet-like name, is never touched.
    src = tmp_path / "zhang-1.jpg"
    photo.save(src)
    other = tmp_path / "zhang-2.jpg"
    Image.new("RGB", (300, 200), "white").save(other)
    make_package(src, out_path=tmp_path / "zhang.jpg")
    assert src.exists() and other.exists() and (tmp_path / "zhang.jpg").exists()
