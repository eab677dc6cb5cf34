"""The hand-off package for the upload to CHSI (学信网): one 480×640 JPEG per photographed student plus
an index, written as one zip file.

CHSI's upload format is not public (../shared/DOMAIN.md), so the shape is the common one and the
naming is configurable: ``{doc_number}.jpg`` by default (the ID number is how CHSI matches a photo to
its record). ``index.csv`` lists each file with the student, the photo's hash and the capture-code
token scanned at check-in (it travels with the photo); ``missing.csv`` the active students with no
accepted photo (the make-up list at the time of the build) and those whose photo fails the file
check. Both are UTF-8 with BOM, a cell that would read as a formula gets a leading apostrophe
(core.spreadsheets), and ``index.xlsx`` has the same lists with ID numbers kept as text.

Every photo is checked again as a file before it goes in (JPEG, baseline, the profile's 480×640,
24-bit colour, within its size window): a file that fails is left out and listed with its reason,
never shipped. The zip is written beside the target (mode 0600: it holds every student's ID
number) and moved into place when complete, so a failed build leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import string
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import Prefetch
from django.utils import timezone

from tucai.audit.services import audit_record
from tucai.campaigns.models import Student, StudentStatus
from tucai.core.errors import TucaiError
from tucai.core.spreadsheets import csv_bytes, xlsx_bytes
from tucai.photo.spec import get_profile
from tucai.stations.models import Shot
from tucai.stations.selectors import accepted_photos

DEFAULT_NAMING = "{doc_number}"
NAMING_FIELDS = ("doc_number", "student_no", "name")
INDEX_COLUMNS = ["文件名", "学号", "姓名", "证件类型", "证件号码", "院系", "班级", "采集码原文", "SHA-256", "采用时间"]
MISSING_COLUMNS = ["学号", "姓名", "院系", "班级", "原因"]
# Characters no file system or zip tool should meet in a name.
_UNSAFE = re.compile(r'[\x00-\x1f\\/:*?"<>|]')


@dataclass
class HandoffEntry:
    student: Student
    shot: Shot | None
    filename: str = ""
    reason: str = ""          # why it is not in the package (empty when it is)


@dataclass
class HandoffResult:
    included: list[HandoffEntry] = field(default_factory=list)
    missing: list[HandoffEntry] = field(default_factory=list)    # no accepted photo
    invalid: list[HandoffEntry] = field(default_factory=list)    # accepted photo fails the file check
    path: Path | None = None
    sha256: str = ""
    size: int = 0


def _naming_check(naming: str) -> None:
    """Only bare fields: a format spec or conversion (``{name:>{student_no}}``, ``{name!r}``) could
    make a file name of any length or raise while formatting."""
    try:
        parts = list(string.Formatter().parse(naming))
    except ValueError:
        parts = [("", "", "", None)]
    fields = [(f, spec, conv) for _, f, spec, conv in parts if f is not None]
    if not fields or any(f not in NAMING_FIELDS or spec or conv is not None for f, spec, conv in fields):
        raise TucaiError("handoff.bad_naming", f"文件名模板无效：{naming!r}（可用字段：{', '.join(NAMING_FIELDS)}）",
                         f"Invalid file-name pattern {naming!r} (fields: {', '.join(NAMING_FIELDS)})")


def file_problem(data: bytes, *, profile_id: str) -> str:
    """Why this accepted photo cannot go to CHSI as it is, or "" when it can."""
    from PIL import Image, UnidentifiedImageError

    prof = get_profile(profile_id)
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt, size, mode = im.format, im.size, im.mode
            progressive = bool(im.info.get("progressive") or im.info.get("progression"))
            im.draft("RGB", (size[0] // 8, size[1] // 8))  # every byte still decoded (truncation shows), at 1/8
            im.load()
    except (UnidentifiedImageError, OSError, ValueError):
        return "file.unreadable"
    if fmt != "JPEG" or progressive:
        return "file.not_baseline_jpeg"
    if size != (prof.width, prof.height):
        return "file.wrong_size"
    if mode != "RGB":
        return "file.not_colour"
    if not prof.size_kb.contains(len(data) / 1024):
        return "file.size_window"
    return ""


REASONS = {
    "photo.none": ("没有已采用的照片（需补拍）", "No accepted photo (make-up shoot needed)"),
    "correction.open": ("勘误申请尚未处理", "A correction request is still open"),
    "file.unreadable": ("照片文件无法读取", "The photo file cannot be read"),
    "file.missing": ("照片文件不存在", "The photo file is missing from storage"),
    "file.not_baseline_jpeg": ("不是基线 JPEG", "Not a baseline JPEG"),
    "file.wrong_size": ("尺寸不是规定的像素", "Not the required pixel size"),
    "file.not_colour": ("不是 24 位彩色", "Not 24-bit colour"),
    "file.size_window": ("文件大小超出规定范围", "File size outside the required window"),
}


def handoff_collect(*, campaign, naming: str = DEFAULT_NAMING, check_files: bool = True,
                    on_photo: Callable[[HandoffEntry, bytes], None] | None = None) -> HandoffResult:
    """Who goes into the package and who does not, and why. With ``check_files`` every photo file is
    read and checked, one at a time (without, the answer comes from the database alone: who has an
    accepted photo — what a page shows). ``on_photo(entry, data)`` receives each photo that goes in
    as it is read — the build writes it into the zip there, so no more than one photo is in memory."""
    _naming_check(naming)
    profile_id = campaign.photo_profile or "chsi"
    accepted = Prefetch("shots", queryset=accepted_photos(), to_attr="accepted_shots")
    students = (Student.objects.filter(campaign=campaign, status=StudentStatus.ACTIVE)
                .select_related("school_class__department").prefetch_related(accepted).order_by("student_no"))
    from tucai.proofing.selectors import students_with_open_corrections

    correcting = students_with_open_corrections(campaign=campaign)
    result, seen = HandoffResult(), {}
    for s in students:
        shot = s.accepted_shots[0] if s.accepted_shots else None
        if shot is None:
            result.missing.append(HandoffEntry(student=s, shot=None, reason="photo.none"))
            continue
        if s.pk in correcting:  # asked for a correction (勘误) that the office has not answered yet
            result.missing.append(HandoffEntry(student=s, shot=shot, reason="correction.open"))
            continue
        data = b""
        if check_files:
            try:
                with shot.normalized.open("rb") as fh:
                    data = fh.read()
            except FileNotFoundError:  # the row outlived its file
                result.invalid.append(HandoffEntry(student=s, shot=shot, reason="file.missing"))
                continue
            except OSError as exc:
                # Anything else (storage down, permissions, too many open files) is not this student's
                # photo being bad: stop, rather than ship a package quietly missing them.
                raise TucaiError("handoff.storage_error", f"读取 {s.student_no} 的照片时出错：{exc}",
                                 f"Reading {s.student_no}'s photo failed: {exc}") from exc
            problem = file_problem(data, profile_id=profile_id)
            if problem:
                result.invalid.append(HandoffEntry(student=s, shot=shot, reason=problem))
                continue
        filename = _filename(naming, s)
        other = seen.get(filename.lower())
        if other is not None:
            raise TucaiError("handoff.duplicate_name",
                             f"文件名重复：{filename}（{other}、{s.student_no}），请换用其他文件名模板",
                             f"Two students would get the file name {filename} ({other}, {s.student_no}): "
                             "use another naming pattern")
        seen[filename.lower()] = s.student_no
        entry = HandoffEntry(student=s, shot=shot, filename=filename)
        result.included.append(entry)
        if on_photo is not None and check_files:
            on_photo(entry, data)
    return result


# Names Windows refuses for a file, whatever the extension.
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME_BYTES = 200  # zip and most file systems take 255 bytes per name; unzip tools choke before


def _filename(naming: str, s: Student) -> str:
    raw = naming.format(doc_number=s.doc_number.upper(), student_no=s.student_no, name=s.name)
    # Control and format characters (bidi overrides, zero-width) and path separators become "_";
    # Unicode spaces at either end go, as do dots (a hidden file, or a name Windows trims).
    stem = "".join("_" if _UNSAFE.match(ch) or unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in raw)
    stem = stem.strip().strip(".").strip()
    if not stem:
        raise TucaiError("handoff.bad_naming", f"学生 {s.student_no} 按模板 {naming!r} 得到空文件名",
                         f"The pattern {naming!r} gives student {s.student_no} an empty file name")
    if stem[0] in "=+-@":
        stem = "_" + stem[1:]  # a name a spreadsheet would read as a formula (index.csv lists it)
    if stem.upper() in _RESERVED:
        stem += "_"
    if len(stem.encode("utf-8")) > MAX_NAME_BYTES:
        raise TucaiError("handoff.bad_naming", f"学生 {s.student_no} 的文件名过长（超过 {MAX_NAME_BYTES} 字节）",
                         f"Student {s.student_no}'s file name is longer than {MAX_NAME_BYTES} bytes")
    return f"{stem}.jpg"


def _department(s: Student) -> str:
    sc = s.school_class
    return str(sc.department) if sc is not None and sc.department_id else ""


def handoff_build(*, campaign, out: str | Path, naming: str = DEFAULT_NAMING, require_all: bool = False,
                  actor=None, actor_label: str = "") -> HandoffResult:
    """Write the package to ``out`` (a .zip path) and record the build in the audit log.

    ``require_all``: refuse (write nothing) when any active student has no accepted photo or a photo
    that fails the file check."""
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise TucaiError("handoff.bad_target", "输出文件须以 .zip 结尾", "The output file must end in .zip")
    if not out.parent.is_dir():
        raise TucaiError("handoff.bad_target", f"目录不存在：{out.parent}", f"No such directory: {out.parent}")
    _naming_check(naming)
    index_rows: list[list[str]] = []
    if out.is_dir():
        raise TucaiError("handoff.bad_target", f"{out} 是一个目录", f"{out} is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".handoff-", suffix=".zip.part", dir=out.parent)
    except OSError as exc:
        raise TucaiError("handoff.bad_target", f"无法在 {out.parent} 写入：{exc}", f"Cannot write in {out.parent}: {exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w") as zf:
            def add(entry: HandoffEntry, data: bytes) -> None:
                # JPEGs are compressed already: stored, not deflated again.
                zf.writestr(zipfile.ZipInfo(entry.filename, date_time=_zip_time(entry.shot)), data,
                            compress_type=zipfile.ZIP_STORED)
                s = entry.student
                index_rows.append([entry.filename, s.student_no, s.name, s.get_doc_type_display(), s.doc_number.upper(),
                                   _department(s), str(s.school_class), entry.shot.capture_token,
                                   hashlib.sha256(data).hexdigest(), _local(entry.shot.decided_at)])

            result = handoff_collect(campaign=campaign, naming=naming, on_photo=add)
            if require_all and (result.missing or result.invalid):
                raise TucaiError("handoff.incomplete",
                                 f"仍有 {len(result.missing)} 人没有照片、{len(result.invalid)} 张照片不合格，未生成交付包",
                                 f"{len(result.missing)} students have no photo and {len(result.invalid)} photos fail "
                                 "the file check: no package written")
            if not result.included:
                raise TucaiError("handoff.empty", "没有可交付的照片", "There is no photo to hand off")
            missing_rows = [[e.student.student_no, e.student.name, _department(e.student), str(e.student.school_class),
                             REASONS[e.reason][0]] for e in result.missing + result.invalid]
            zf.writestr("index.csv", csv_bytes(INDEX_COLUMNS, index_rows), compress_type=zipfile.ZIP_DEFLATED)
            zf.writestr("missing.csv", csv_bytes(MISSING_COLUMNS, missing_rows), compress_type=zipfile.ZIP_DEFLATED)
            # Excel reads an 18-digit ID number in a CSV as a number and drops its last digits (and a
            # 学号's leading zeros): the same lists as a workbook keep them as text.
            zf.writestr("index.xlsx", xlsx_bytes([("交付名单", INDEX_COLUMNS, index_rows),
                                                  ("缺照片", MISSING_COLUMNS, missing_rows)]),
                        compress_type=zipfile.ZIP_DEFLATED)
            fh.flush()
            os.fsync(fh.fileno())
        digest = _sha256_file(Path(tmp))
        # mkstemp's 0600 stays: the package holds every student's ID number.
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    result.path, result.sha256, result.size = out, digest, out.stat().st_size
    audit_record(actor=actor, actor_label=actor_label, action="handoff.build", entity_type="campaigns.campaign",
                 entity_id=campaign.pk, campaign_id=campaign.pk, institution_id=campaign.institution_id,
                 changes={"included": [None, len(result.included)], "missing": [None, len(result.missing)],
                          "invalid": [None, len(result.invalid)], "sha256": [None, digest]},
                 note=f"{out.name} naming={naming}")
    return result


def _local(when) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S") if when else ""


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _zip_time(shot: Shot) -> tuple[int, int, int, int, int, int]:
    when = timezone.localtime(shot.decided_at or shot.received_at)
    return (max(1980, when.year), when.month, when.day, when.hour, when.minute, when.second)
