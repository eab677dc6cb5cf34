"""Accepted photos for proofreading come the way the hand-off's tests make them (real station services)."""

from tests.handoff.conftest import media_root, photograph, station  # noqa: F401 — fixtures re-used
