"""Writes for capture day: codes, check-in, the queue. Reads live in ``tucai.capture.selectors``."""
