"""Fixtures for the photo-check tests: a compliant portrait built once per session from a real frontal
photo in ../shared/faces (the photos may not be redistributed, so none ships in the repository; the
tests that need a real face skip without them), plus helpers to process images in memory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

# A near-compliant studio portrait (white background, neutral face) whose person is re-used on blue.
COMPLIANT_SOURCE = "deepface_img30.jpg"


@dataclass
class Portrait:
    rgb: np.ndarray          # compliant portrait, H×W×3
    alpha: np.ndarray        # person alpha
    report: dict             # its report
    geometry: object         # FaceGeometry (canvas px)


def run(rgb: np.ndarray, **kw):
    """pipeline.process on an in-memory image (encoded as a high-quality JPEG, like a camera file)."""
    from tucai.photo import synth
    from tucai.photo.pipeline import process

    kw.setdefault("normalize", False)
    return process(synth.jpeg_bytes(rgb, 95), **kw)


def check(result, check_id: str) -> dict:
    from tucai.photo.report import check as find

    c = find(result.report, check_id)
    assert c is not None, f"no check {check_id} in the report"
    return c


@pytest.fixture(scope="session")
def photo_models():
    """MediaPipe models loaded once for the whole session."""
    from tucai.photo import analysis

    analysis.warm_up()
    return analysis.MODELS


@pytest.fixture(scope="session")
def real_face(faces_dir):
    """Load a real photo from ../shared/faces/dev by file name (full resolution, RGB)."""
    from tucai.photo.decode import load_full

    def load(name: str) -> np.ndarray:
        return load_full(faces_dir / "dev" / name).rgb

    return load


@pytest.fixture(scope="session")
def compliant(real_face, photo_models) -> Portrait:
    from tucai.photo import synth

    rgb, alpha = synth.compliant_portrait(real_face(COMPLIANT_SOURCE))
    r = run(rgb)
    assert r.geometry is not None, r.report
    return Portrait(rgb=rgb, alpha=alpha, report=r.report, geometry=r.geometry)


@pytest.fixture(scope="session")
def run_photo():
    """``run_photo(rgb, **process_kwargs)`` → ProcessResult (see :func:`run`)."""
    return run


@pytest.fixture(scope="session")
def check_of():
    """``check_of(result, "pose.roll")`` → that check's dict from the report."""
    return check
