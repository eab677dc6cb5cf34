"""Fee ledger writes (see payments.py)."""

from tucai.fees.services.payments import payment_record, payment_void

__all__ = ["payment_record", "payment_void"]
