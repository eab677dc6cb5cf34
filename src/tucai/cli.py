"""The ``tucai`` command.

``tucai photo ...`` runs the photo library's commands without Django. Everything else is a Django
management command named after its group, so ``tucai roster import FILE --campaign demo-2024`` is
the ``roster`` command with sub-command ``import`` (``tucai help`` lists them all)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "photo":
            from tucai.photo.cli import main as photo_main

            return photo_main(argv[1:])
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tucai.settings")
        from django.core.management import execute_from_command_line

        execute_from_command_line(["tucai", *argv])
        if argv in ([], ["help"]):
            # The photo commands run without Django, so Django's list does not know them.
            sys.stdout.write("\n[photo]\n    photo (check, normalize, sheet; see tucai photo --help)\n")
        return 0
    except BrokenPipeError:
        # The reader went away (``tucai progress ... | head``): stop quietly, as other tools do, with the
        # status of a process ended by SIGPIPE. Point stdout at /dev/null so the exit flush cannot fail too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
