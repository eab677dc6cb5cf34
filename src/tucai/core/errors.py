"""Errors that carry a machine code and a human message in Chinese and English.

Services raise :class:`TucaiError`; views, commands and APIs show ``message_zh`` or
``message_en`` by the active language and keep ``code`` for logs, tests and clients.
"""

from __future__ import annotations

from django.utils import translation


class TucaiError(Exception):
    """A refusal with a stable machine ``code`` and messages in zh and en."""

    def __init__(self, code: str, message_zh: str, message_en: str, *, details: dict | None = None):
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.details = details or {}

    @property
    def message(self) -> str:
        lang = (translation.get_language() or "zh-hans").lower()
        return self.message_en if lang.startswith("en") else self.message_zh

    def as_dict(self) -> dict:
        return {"code": self.code, "message_zh": self.message_zh, "message_en": self.message_en, **(
            {"details": self.details} if self.details else {})}


class PermissionDenied(TucaiError):
    def __init__(self, message_zh: str = "无权执行此操作", message_en: str = "You are not allowed to do this"):
        super().__init__("permission.denied", message_zh, message_en)
