"""Yuan ↔ fen. The ledger stores integer fen (分); people type and read yuan (元) with up to 2 decimals."""

from __future__ import annotations

import decimal
import re
import unicodedata

from tucai.core.errors import TucaiError

# Ceiling for the amount charged per student in one payment. The notice's fee is 20 元 per student; a
# make-up fee or a payment for several re-shoots stays within tens of 元. 1000 元 is 50× the notice's fee, so
# no real payment reaches it, while a mistyped amount (an extra 0 or three, a transaction number pasted into
# the amount box) does. A fixed ceiling rather than a multiple of the fee, so a campaign whose fee is not
# set yet (0) still has one.
AMOUNT_MAX_FEN_EACH = 100_000
# Ceiling for one payment's total: the columns are 32-bit integers (PostgreSQL int4: 21 474 836.47 元 at
# most), and 1 000 000 元 is far above a whole college's fees (thousands of students × 20 元) paid at once.
PAYMENT_TOTAL_MAX_FEN = 100_000_000


def fee_is_paid(*, fee_fen: int, paid_fen: int) -> bool:
    """The one rule for "paid": what the ledger holds reaches the fee (a fee of 0 charges nothing)."""
    return fee_fen == 0 or paid_fen >= fee_fen

# A yuan amount as typed, after NFKC (full-width "１２．５" or "￥" from a Chinese IME become ASCII): ASCII
# digits only (re.ASCII: "\d" would also accept Arabic-Indic and other scripts' digits), optionally "." and
# one or two digits (1 fen is the smallest unit of RMB). static/fees/collect.js matches the same shape.
_YUAN = re.compile(r"\s*¥?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*(?:元)?\s*", re.ASCII)


def _invalid(raw: str, zh: str, en: str) -> TucaiError:
    return TucaiError("fees.amount_invalid", zh, en, details={"amount": raw, "max_fen": AMOUNT_MAX_FEN_EACH})


def yuan_to_fen(text: str | int | decimal.Decimal) -> int:
    """``"20"`` → 2000, ``"12.5"`` → 1250, ``"0.01"`` → 1, ``"１２．５"`` → 1250. Refuses negatives, more than
    2 decimals, non-ASCII digits, amounts over :data:`AMOUNT_MAX_FEN_EACH` and junk (``fees.amount_invalid``)
    instead of rounding money silently."""
    raw = str(text)
    if not raw.strip():
        raise _invalid(raw, "请填写金额（元）", "Enter the amount (yuan)")
    m = _YUAN.fullmatch(unicodedata.normalize("NFKC", raw))
    if m is None:
        raise _invalid(raw, f"金额“{raw}”无效（元，最多两位小数）", f"Invalid amount {raw!r} (yuan, at most 2 decimals)")
    fen = int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    check_amount_each(fen, raw=raw)
    return fen


def check_amount_each(fen: int, *, raw: str | None = None) -> None:
    """Refuse a per-student amount above :data:`AMOUNT_MAX_FEN_EACH` (``fees.amount_invalid``)."""
    if fen > AMOUNT_MAX_FEN_EACH:
        shown = raw if raw is not None else fen_to_yuan(fen)
        raise _invalid(shown, f"每人金额“{shown}”超过上限 {fen_to_yuan(AMOUNT_MAX_FEN_EACH)} 元，请核对",
                       f"The amount per student {shown!r} is over the ceiling of "
                       f"{fen_to_yuan(AMOUNT_MAX_FEN_EACH)} yuan; please check it")


def fen_to_yuan(fen: int | None) -> str:
    """2000 → ``"20.00"``; always two decimals so columns of money line up."""
    fen = int(fen or 0)
    sign = "-" if fen < 0 else ""
    yuan, rest = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{rest:02d}"
