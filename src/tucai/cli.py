"""The ``tucai`` command.

``tucai photo ...`` runs the photo library's commands without Django. Everything else is a Django
management command named after its group, so ``tucai roster import FILE --campaign demo-2024`` is
the ``roster`` command with sub-command ``import`` (``tucai help`` lists them all)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "photo":
        from tucai.photo.cli import main as photo_main

        return photo_main(argv[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tucai.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tucai", *argv])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
