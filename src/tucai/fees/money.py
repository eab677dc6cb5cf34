"""Yuan ↔ fen. The ledger stores integer fen (分); people type and read yuan (元) with up to 2 decimals."""

from __future__ import annotations

import decimal
import re

from tucai.core.errors import TucaiError

# A yuan amount as typed: digits, optionally "." and one or two digits (1 fen is the smallest unit of RMB).
_YUAN = re.compile(r"^\s*[¥￥]?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*(?:元)?\s*$")


def yuan_to_fen(text: str | int | decimal.Decimal) -> int:
    """``"20"`` → 2000, ``"12.5"`` → 1250, ``"0.01"`` → 1. Refuses negatives, more than 2 decimals and junk
    (``fees.amount_invalid``) instead of rounding money silently."""
    raw = str(text)
    m = _YUAN.match(raw)
    if m is None:
        raise TucaiError("fees.amount_invalid", f"金额“{raw}”无效（元，最多两位小数）",
                         f"Invalid amount {raw!r} (yuan, at most 2 decimals)", details={"amount": raw})
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


def fen_to_yuan(fen: int | None) -> str:
    """2000 → ``"20.00"``; always two decimals so columns of money line up."""
    fen = int(fen or 0)
    sign = "-" if fen < 0 else ""
    yuan, rest = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{rest:02d}"
