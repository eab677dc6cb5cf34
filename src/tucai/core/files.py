"""Writing output files so that nothing is ever half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tucai.core.errors import TucaiError


def write_atomic(path: str | os.PathLike, data: bytes, *, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Refuses (TucaiError ``output.dir_not_found`` / ``output.not_writable``) instead of creating folders the
    user did not ask for or printing a traceback."""
    out = Path(path)
    if out.is_dir():
        raise TucaiError("output.is_dir", f"输出路径是一个文件夹：{out}", f"The output path is a folder: {out}")
    if not out.parent.is_dir():
        raise TucaiError("output.dir_not_found", f"输出文件夹不存在：{out.parent}",
                         f"The output folder does not exist: {out.parent}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise TucaiError("output.not_writable", f"无法写入文件夹：{out.parent}",
                         f"Cannot write to the folder: {out.parent}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
