"""``tucai photo ...``: the photo library's commands (no Django).

    tucai photo check FILE... [--json] [--profile chsi]
    tucai photo normalize IN OUT [--profile chsi]
    tucai photo sheet FILE --package default OUT.pdf|OUT.jpg [--sheet 6inch]

Exit codes: 0 all photos pass, 1 at least one needs a retake, 2 an error (unreadable file, bad
arguments, nothing written).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

EXIT_PASS, EXIT_RETAKE, EXIT_ERROR = 0, 1, 2


def _profiles() -> list[str]:
    from tucai.photo.spec import PROFILES

    return sorted(PROFILES)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tucai photo", description="照片合规检查、规格化与冲印排版 / photo checks, "
                                "normalisation and print sheets")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="check photos against the spec")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--json", action="store_true", help="one JSON report per line")
    c.add_argument("--profile", default="chsi", choices=_profiles())
    c.add_argument("--lang", default="zh", choices=("zh", "en"), help="language of the human output")
    n = sub.add_parser("normalize", help="crop/scale/encode a photo to the profile (480×640 JPEG)")
    n.add_argument("src", metavar="IN")
    n.add_argument("dst", metavar="OUT")
    n.add_argument("--profile", default="chsi", choices=_profiles())
    n.add_argument("--force", action="store_true", help="write the output even if other checks ask for a retake")
    s = sub.add_parser("sheet", help="lay out a print package on sheets (PDF or JPEG)")
    s.add_argument("src", metavar="FILE", help="a normalised photo, or an original (normalised first)")
    s.add_argument("dst", metavar="OUT", help="OUT.pdf, OUT.jpg or OUT.png")
    s.add_argument("--package", default="default")
    s.add_argument("--sheet", default=None, help="sheet size id (6inch, 5inch, a4); default: the package's")
    s.add_argument("--profile", default="chsi", choices=_profiles())
    s.add_argument("--force", action="store_true", help="print an original even if its checks ask for a retake")
    return p


def _human(report: dict, lang: str) -> str:
    msg = "message_zh" if lang == "zh" else "message_en"
    lines = []
    head = {"pass": "合格 PASS", "retake": "需重拍 RETAKE", "error": "错误 ERROR"}[report["verdict"]]
    lines.append(f"{report['file']}: {head}  ({report['timing_ms']:.0f} ms)")
    if report["error"]:
        e = report["error"]
        lines.append(f"  [{e['code']}] {e['message'] if lang == 'zh' else e['message_en']}")
    for c in report["checks"]:
        mark = {True: "✓", False: "✗", None: "?"}[c["ok"]]
        value = c["value"]
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if not isinstance(v, (list, dict)))
        h = " (heuristic)" if c.get("heuristic") else ""
        lines.append(f"  {mark} {c['id']:<18} {c[msg]}  [{value}]{h}")
    return "\n".join(lines)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def cmd_check(args, out) -> int:
    from tucai.photo.pipeline import process

    worst = EXIT_PASS
    for f in args.files:
        r = process(f, profile=args.profile, normalize=False, filename=f)
        if args.json:
            out.write(json.dumps(r.report, ensure_ascii=False) + "\n")
        else:
            out.write(_human(r.report, args.lang) + "\n")
        out.flush()
        code = {"pass": EXIT_PASS, "retake": EXIT_RETAKE, "error": EXIT_ERROR}[r.verdict]
        worst = max(worst, code)
    return worst


def cmd_normalize(args, out, err) -> int:
    from tucai.photo.pipeline import process

    dst = Path(args.dst)
    if not dst.parent.is_dir():
        err.write(f"输出目录不存在 / output folder does not exist: {dst.parent}\n")
        return EXIT_ERROR
    if dst.is_dir():
        err.write(f"输出路径是一个文件夹，请给出文件名 / the output is a folder, give a file name: {dst}\n")
        return EXIT_ERROR
    r = process(args.src, profile=args.profile, normalize=True, filename=args.src)
    if r.verdict == "error":
        e = r.report["error"]
        err.write(f"[{e['code']}] {e['message']} / {e['message_en']}\n")
        return EXIT_ERROR
    if r.normalized_jpeg is None:
        n = r.report.get("normalized") or {}
        e = n.get("error")
        if e is None:
            fr = next((c for c in r.report["checks"] if c["id"] == "framing"), None)
            v = fr["value"] if fr and isinstance(fr["value"], dict) else {}
            e = {"code": v.get("code", "framing"), "message": fr["message_zh"] if fr else "无法规格化",
                 "message_en": fr["message_en"] if fr else "Cannot normalise"}
        err.write(f"[{e['code']}] {e['message']} / {e['message_en']}\n")
        return EXIT_ERROR
    if r.verdict == "retake" and not args.force:
        out.write(_human(r.report, "zh") + "\n")
        err.write("照片需重拍，未写出（用 --force 仍然写出）/ retake needed, nothing written (use --force)\n")
        return EXIT_RETAKE
    try:
        _write_atomic(dst, r.normalized_jpeg)
    except OSError as e:
        err.write(f"无法写出 / cannot write {dst}: {e.strerror or e}\n")
        return EXIT_ERROR
    n = r.report["normalized"]
    out.write(f"{dst}: {n['width']}×{n['height']} quality {n['quality']}, {n['size_bytes']} bytes"
              f"{'' if n['size_ok'] else ' (outside the size window)'}\n")
    return EXIT_PASS if r.verdict == "pass" else EXIT_RETAKE


def cmd_sheet(args, out, err) -> int:
    from PIL import Image

    from tucai.photo import sheets
    from tucai.photo.decode import PhotoError, load_full
    from tucai.photo.pipeline import process
    from tucai.photo.spec import get_profile

    prof = get_profile(args.profile)
    try:
        dec = load_full(args.src)
    except PhotoError as e:
        err.write(f"[{e.code}] {e.message_zh} / {e.message_en}\n")
        return EXIT_ERROR
    if dec.original_size == (prof.width, prof.height):
        photo = Image.fromarray(dec.rgb, "RGB")   # already normalised
    else:
        r = process(dec.data, profile=prof, normalize=True, filename=args.src)
        if r.normalized_jpeg is None:
            e = r.report.get("error") or (r.report.get("normalized") or {}).get("error") or {
                "code": "framing", "message": "无法规格化，请先用 tucai photo check 查看原因",
                "message_en": "Cannot normalise; see tucai photo check"}
            err.write(f"[{e['code']}] {e['message']} / {e['message_en']}\n")
            return EXIT_ERROR
        # The size window is the upload's rule; the prints do not care.
        blocking = [x for x in r.report.get("retake_reasons", []) if x["id"] != "normalize.size_window"]
        if blocking and not args.force:
            # The same rule as normalize: prints of a photo that must be retaken are paid-for waste.
            out.write(_human(r.report, "zh") + "\n")
            err.write("照片需重拍，未输出冲印版面（用 --force 仍然输出）/ retake needed, no sheets written (use --force)\n")
            return EXIT_RETAKE
        photo = r.normalized_jpeg
    try:
        paths = sheets.make_package(photo, package_id=args.package, sheet_id=args.sheet, out_path=args.dst)
    except sheets.SheetError as e:
        err.write(f"[{e.code}] {e.message_zh} / {e.message_en}\n")
        return EXIT_ERROR
    except KeyError as e:
        err.write(f"{e}\n")
        return EXIT_ERROR
    for p in paths:
        out.write(f"{p}\n")
    return EXIT_PASS


@contextlib.contextmanager
def _python_stderr_only():
    """MediaPipe's C++ code logs notices straight to file descriptor 2 (no setting turns them off).
    For the command, send fd 2 to /dev/null and keep Python's ``sys.stderr`` on the real stderr."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):   # stderr already replaced (tests capture it)
        yield sys.stderr
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    err = os.fdopen(os.dup(saved), "w", encoding=sys.stderr.encoding or "utf-8", errors="replace")
    old = sys.stderr
    try:
        os.dup2(devnull, fd)
        sys.stderr = err
        yield err
    finally:
        err.flush()
        sys.stderr = old
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)
        err.close()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    out = sys.stdout
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:   # argparse: --help (0) or a usage error (2)
        return int(e.code or 0) if e.code in (0, None) else EXIT_ERROR
    with _python_stderr_only() as err:
        if args.cmd == "check":
            return cmd_check(args, out)
        if args.cmd == "normalize":
            return cmd_normalize(args, out, err)
        return cmd_sheet(args, out, err)


if __name__ == "__main__":
    raise SystemExit(main())
