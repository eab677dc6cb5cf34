"""The photo library's one error type (it cannot use ``tucai.core.errors.TucaiError``, which imports
Django): a stable ``code`` and short messages in Chinese and English."""

from __future__ import annotations


class PhotoError(Exception):
    def __init__(self, code: str, message_zh: str, message_en: str, *, details: dict | None = None):
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.details = details or {}

    def as_dict(self) -> dict:
        """The ``error`` object of the JSON report (docs/photo-report.md): message is the Chinese text."""
        d = {"code": self.code, "message": self.message_zh, "message_en": self.message_en}
        if self.details:
            d["details"] = self.details
        return d


class NormalizeError(PhotoError):
    """A photo that cannot be cropped to the profile (framing.*)."""


class SheetError(PhotoError):
    """A print sheet that cannot be made (sheet.*)."""
