"""face.count: the extra detection passes (crowd tiles, a neighbour cut by the frame, a person whose
face the face detectors cannot see) on real photos from ../shared/faces and on images built from them."""

from __future__ import annotations

import numpy as np
import pytest


def _count(path) -> int:
    from tucai.photo.pipeline import process
    from tucai.photo.report import check

    return check(process(path, normalize=False).report, "face.count")["value"]


def test_crowd_tiles_find_the_small_faces_of_a_team_photo(faces_dir, photo_models):
    # A team of about 25 people with 30–40 px faces: neither whole-image detector finds one; the 3×3
    # tiles find most of them (the crowd in the stands stays out: its faces are too small).
    n = _count(faces_dir / "dev" / "retinaface_img3.jpg")
    assert 20 <= n <= 26, n


def test_a_neighbour_cut_by_the_frame_counts(faces_dir, photo_models):
    # A face on a phone screen in the middle, the person holding it half out of the picture at the left.
    assert _count(faces_dir / "dev" / "trueface_far_shot_fake_person.jpg") == 2


def test_half_a_face_pasted_at_the_edge_counts_and_a_sliver_does_not(faces_dir, photo_models, run_photo,
                                                                     check_of):
    """A compliant photo with a second person's face pasted at the right edge: more than half of it in
    the picture is a second face; a quarter of it is not (the label's "about half the face or more")."""
    import cv2

    from tucai.photo import analysis
    from tucai.photo.decode import load

    src = load(faces_dir / "dev" / "deepface_img30.jpg").rgb
    a = analysis.analyse(load(faces_dir / "dev" / "deepface_img30.jpg"), _profile())
    x, y, bw, bh = (int(v) for v in a.faces[0].box)
    # The neighbour's head: the same face (its box grown to take in hair and chin), at the same height.
    g = int(0.3 * bw)
    head = src[max(0, y - g):y + bh + g, max(0, x - g):x + bw + g]
    hh, hw = head.shape[:2]
    for shown, want in ((0.6, 2), (0.25, 1)):
        canvas = np.full((max(src.shape[0], hh + y), src.shape[1] + hw, 3), 200, np.uint8)
        canvas[:src.shape[0], :src.shape[1]] = src
        keep = int(shown * hw)
        x0 = src.shape[1] + int(0.15 * hw)          # a gap of background between the two people
        canvas = canvas[:, :x0 + keep]
        canvas[max(0, y - g):max(0, y - g) + hh, x0:x0 + keep] = head[:, :keep]
        canvas = cv2.resize(canvas, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        assert check_of(run_photo(canvas), "face.count")["value"] == want, shown


def test_a_person_in_profile_counts_as_a_face_a_landscape_as_none(faces_dir, photo_models):
    # A cyclist seen from the side, a 20 px face under a helmet: no face detector finds it, the person
    # model sees nose, eye and ear. Landscapes without people stay at 0.
    assert _count(faces_dir / "dev" / "trueface_person_on_bike.jpg") == 1
    for name in ("compreface_017_0.jpg", "compreface_NoFace-img1.jpg", "compreface_NoFace-img2.jpg"):
        assert _count(faces_dir / "dev" / name) == 0, name


def test_a_person_without_a_measurable_face_is_a_retake_with_its_own_message(faces_dir, photo_models, check_of):
    from tucai.photo.pipeline import process

    r = process(faces_dir / "dev" / "trueface_person_on_bike.jpg", normalize=False)
    c = check_of(r, "face.count")
    assert c["value"] == 1 and c["ok"] is None and r.verdict == "retake"
    assert "face the camera" in c["message_en"]
    # ...and that message is what the student is told (the retake reasons), not only stored in the check.
    assert any(x["id"] == "face.count" and "face the camera" in x["message_en"] for x in r.report["retake_reasons"])
    assert check_of(r, "pose.yaw")["ok"] is not True    # a profile: turned, or not measurable


def test_the_extra_passes_do_not_run_on_a_compliant_portrait(compliant, photo_models, monkeypatch, run_photo,
                                                             check_of):
    """The normal capture photo (one centred face, background beside the head) pays for no extra pass."""
    from tucai.photo import analysis

    called = []
    monkeypatch.setattr(analysis, "_detect_edges", lambda *a, **k: called.append("edge") or [])
    monkeypatch.setattr(analysis, "_detect_person", lambda *a, **k: called.append("person") or [])
    r = run_photo(compliant.rgb)
    assert check_of(r, "face.count")["value"] == 1
    assert called == []


def _profile():
    from tucai.photo.spec import CHSI

    return CHSI


def test_the_edge_pass_looks_only_where_a_person_reaches_the_edge_at_face_height():
    """Shoulders reaching both edges below the chin (every portrait) start no edge pass; a second head
    at the face's height on the right does."""
    from tucai.photo.analysis import Face, _edge_sides
    from tucai.photo.spec import CHSI

    mask = np.zeros((400, 300), np.float32)
    face = Face((110.0, 80.0, 80.0, 100.0), 0.95)
    mask[60:200, 100:200] = 1.0            # the student's head
    mask[260:, :] = 1.0                    # shoulders to both edges, below the chin (y = 180)
    assert _edge_sides(mask, face, CHSI) == []
    mask[70:190, 260:] = 1.0               # a neighbour's head cut by the right edge
    assert _edge_sides(mask, face, CHSI) == ["R"]
    assert _edge_sides(None, face, CHSI) == []


@pytest.mark.parametrize("size", [(400, 1), (400, 2), (2, 400), (5, 5)])
def test_a_strip_or_thumbnail_cannot_break_the_models_for_later_photos(size, photo_models):
    """MediaPipe's graphs break for good on an empty input; a 2-px strip once made every later photo of
    the process an ``analysis.internal`` error (one bad upload stopping a capture station)."""
    import io

    from PIL import Image

    from tucai.photo import synth
    from tucai.photo.pipeline import process

    h, w = size
    buf = io.BytesIO()
    Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(buf, "PNG")
    tiny = process(buf.getvalue(), normalize=False)
    assert tiny.error_code != "analysis.internal"
    later = process(synth.jpeg_bytes(np.full((640, 480, 3), 200, np.uint8), 95), normalize=False)
    assert later.error_code is None and later.verdict == "retake"


def test_warm_up_loads_the_pose_model_too(photo_models):
    """A photo with no detectable face needs the pose model: it is loaded at start-up, not by that
    photo at the camera."""
    assert photo_models.person is not None
    assert photo_models.get_person() is photo_models.person  # loaded once per process
