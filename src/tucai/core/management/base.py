"""A base for the ``tucai`` commands that offer ``--json``: a script reading their standard output gets an
answer on failure too, not only a line on standard error."""

from __future__ import annotations

import json
import re

from django.core.management.base import BaseCommand, CommandError

# Our commands raise CommandError("<code>: <message>") for service errors (e.g. "handoff.bad_naming: ...").
_CODED = re.compile(r"([a-z_]+(?:\.[a-z_]+)+): (.*)", re.S)


class JsonCommand(BaseCommand):
    """With ``--json``, a failed command also prints ``{"error": {"code", "message"}}`` as its last stdout
    line (and still exits non-zero with the message on stderr)."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            if options.get("json"):
                m = _CODED.fullmatch(str(exc))
                code, message = (m.group(1), m.group(2)) if m else ("command.error", str(exc))
                self.stdout.write(json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False))
            raise
