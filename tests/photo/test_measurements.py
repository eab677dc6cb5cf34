"""The measurements behind the checks, tested as measurements: the pose estimate against itself
(mirrored and rescaled photos, no labels needed) and the eye-openness rule (the less open eye decides)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tucai.photo import checks, synth
from tucai.photo.checks.eyes import eye_openness
from tucai.photo.spec import CHSI


def _pose(rgb: np.ndarray) -> np.ndarray:
    """(yaw, pitch, roll) of a photo through the whole pipeline (lossless PNG, so only geometry changes)."""
    from tucai.photo.pipeline import process
    from tucai.photo.report import check

    ok, buf = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    assert ok
    rep = process(buf.tobytes(), normalize=False).report
    vals = [check(rep, i)["value"] for i in ("pose.yaw", "pose.pitch", "pose.roll")]
    assert None not in vals, rep
    return np.array(vals, float)


# A frontal studio portrait, a clearly turned head, a tilted (rolled) head.
@pytest.mark.parametrize("name", ["deepface_img30.jpg", "lfw_Shia_LaBeouf_0001.jpg", "facerec_biden.jpg"])
def test_pose_of_a_mirrored_photo_changes_sign(real_face, photo_models, name):
    rgb = real_face(name)
    p, m = _pose(rgb), _pose(rgb[:, ::-1])
    # Mirroring turns yaw and roll to the other side and leaves pitch alone.
    assert abs(p[0] + m[0]) <= 3.0, (p, m)
    assert abs(p[1] - m[1]) <= 3.0, (p, m)
    assert abs(p[2] + m[2]) <= 2.0, (p, m)


def test_turned_head_reads_the_same_at_a_smaller_scale(real_face, photo_models):
    rgb = real_face("lfw_Shia_LaBeouf_0001.jpg")
    p = _pose(rgb)
    s = _pose(cv2.resize(rgb, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA))
    assert abs(p[0]) > CHSI.max_yaw            # the turn is real, and ...
    assert np.all(np.abs(p - s) <= 2.0), (p, s)  # ... the estimate does not depend on the resolution


@pytest.fixture(scope="module")
def drawn():
    return synth.drawn_portrait()


def _eyes(drawn, ear_left: float, ear_right: float):
    rgb, mask, g = drawn
    a = synth.drawn_analysis(rgb, mask, g)
    a.ear_left, a.ear_right = ear_left, ear_right
    results, _ = checks.run_checks(a, CHSI)
    return next(c for c in results if c.id == "eyes.open")


def test_a_wink_fails_eyes_open(drawn):
    # Mean of 0.05 and 0.30 is 0.175, above the limit: averaging would pass a closed eye.
    c = _eyes(drawn, 0.05, 0.30)
    assert c.ok is False and c.value == pytest.approx(0.05) and c.value < c.limit
    c = _eyes(drawn, 0.30, 0.05)
    assert c.ok is False


def test_both_eyes_open_pass_and_both_closed_fail(drawn):
    assert _eyes(drawn, 0.27, 0.31).ok is True
    assert _eyes(drawn, 0.27, 0.31).value == pytest.approx(0.27)
    assert _eyes(drawn, 0.04, 0.06).ok is False


def test_eye_openness_is_the_less_open_eye():
    assert eye_openness(0.2, 0.3) == 0.2
    assert eye_openness(0.3, 0.1) == 0.1


def test_mesh_confirms_small_crowd_faces_and_rejects_a_false_one(faces_dir, photo_models):
    from tucai.photo.pipeline import process
    from tucai.photo.report import check

    # About 20 faces of 30 px: the tile detector scores many of them 0.6–0.8, under its floor of 0.8;
    # the face mesh confirms them (4 counted without the mesh).
    crowd = check(process(faces_dir / "dev" / "retinaface_img3.jpg", normalize=False).report, "face.count")
    assert crowd["value"] >= 10 and crowd["ok"] is False, crowd
    # A photo without a face has a 0.7 tile detection that gets no mesh: still no face.
    none = check(process(faces_dir / "dev" / "compreface_NoFace-img1.jpg", normalize=False).report, "face.count")
    assert none["value"] == 0, none


def test_without_mesh_confirmation_the_floors_apply(faces_dir, photo_models):
    from tucai.photo import analysis
    from tucai.photo.decode import load
    from tucai.photo.spec import CHSI

    rgb = load(faces_dir / "dev" / "retinaface_img3.jpg").rgb
    dets = analysis._detect(rgb, analysis.MODELS.get())
    plain = analysis._select_faces(dets, CHSI)
    confirmed = analysis._select_faces(dets, CHSI, confirm=lambda f: True)
    refused = analysis._select_faces(dets, CHSI, confirm=lambda f: False)
    assert len(plain) == len(refused) < len(confirmed)
    assert all(f.score >= CHSI.face_confirm_score_min for f in confirmed)
