"""Face analysis: detection, landmarks, person mask, pose and the measurements the checks read.

MediaPipe 0.10.21 "legacy solutions" (models ship inside the wheel; nothing is downloaded). Each model
is created once per process on first use and guarded by a lock: a MediaPipe graph is not re-entrant,
and the web app may call from several threads.

Coordinates: everything in :class:`Analysis` is in the pixels of the analysis image (``rgb``), except
``geometry`` which is in ORIGINAL upright image pixels (divide by ``decoded.scale``).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
from dataclasses import dataclass, field

import numpy as np

from tucai.photo.decode import Decoded
from tucai.photo.geometry import FaceGeometry
from tucai.photo.spec import Profile

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ INFO lines are noise in a command's output
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Face-mesh landmark indices (MediaPipe canonical mesh).
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
# Subject's right eye appears on the image left.
EYE_R = {"outer": 33, "inner": 133, "top": (159, 158, 160), "bottom": (145, 153, 144)}
EYE_L = {"outer": 263, "inner": 362, "top": (386, 385, 387), "bottom": (374, 380, 373)}
IRIS_R, IRIS_L = 468, 473
# The closed contours of the eye openings and of the outer lips (where an eye or the mouth must show).
EYE_R_CONTOUR = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
EYE_L_CONTOUR = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
IRIS_R_RING, IRIS_L_RING = (469, 470, 471, 472), (474, 475, 476, 477)
BROW_R = (70, 63, 105, 66, 107, 46, 53, 52, 65, 55)
BROW_L = (300, 293, 334, 296, 336, 276, 283, 282, 295, 285)
LIP_INNER_TOP, LIP_INNER_BOTTOM = 13, 14
MOUTH_CORNER_R, MOUTH_CORNER_L = 78, 308
MOUTH_OUTER_R, MOUTH_OUTER_L = 61, 291
FOREHEAD, CHIN, NOSE_TIP = 10, 152, 1
CHEEK_R, CHEEK_L = 234, 454
# Cheek skin patches (below the eyes, beside the nose).
CHEEK_PATCH_R, CHEEK_PATCH_L = (50, 101, 36, 205, 187, 123, 117, 118), (280, 330, 266, 425, 411, 352, 346, 347)


class _Models:
    """Lazy, process-wide model singletons."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.run_lock = threading.Lock()
        self.detector = None
        self.detector_short = None
        self.mesh = None
        self.segmenter = None
        self.person = None                   # pose model: loaded only when a photo shows no face at all

    def get_person(self):
        """MediaPipe Pose, loaded on first need (a photo where no face detector found a face)."""
        if self.person is None:
            with self._lock, _quiet_native_stderr():
                if self.person is None:
                    import mediapipe as mp

                    person = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1,
                                                    min_detection_confidence=0.5)
                    person.process(np.full((256, 256, 3), 128, np.uint8))
                    self.person = person
        return self.person

    def get(self):
        if self.segmenter is None:
            with self._lock, _quiet_native_stderr():
                if self.segmenter is None:
                    import mediapipe as mp

                    sol = mp.solutions
                    self.detector = sol.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.3)
                    self.detector_short = sol.face_detection.FaceDetection(model_selection=0,
                                                                           min_detection_confidence=0.3)
                    self.mesh = sol.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1,
                                                       refine_landmarks=True, min_detection_confidence=0.3)
                    segmenter = sol.selfie_segmentation.SelfieSegmentation(model_selection=0)
                    # First inferences print MediaPipe's start-up notices: run them here, silenced.
                    # (The mesh only ever sees square crops: a non-square input makes it warn.)
                    img = np.full((256, 256, 3), 128, np.uint8)
                    for graph in (self.detector, self.detector_short, self.mesh, segmenter):
                        graph.process(img)
                    self.segmenter = segmenter
        return self


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence C++ log lines (TFLite/absl start-up notices, which no environment variable turns off)
    while the models load; Python-level errors still propagate as exceptions."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):   # no real stderr (embedded, captured): nothing to do
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


MODELS = _Models()


def warm_up(*, person: bool = True) -> None:
    """Load the models now (a station, worker or bench calls this at start, before the first photo).

    ``person``: also the pose model that only a photo with no detectable face needs (about 0.3 s
    to load), so that photo is not the one that waits for it at the camera."""
    m = MODELS.get()
    img = np.full((256, 256, 3), 128, np.uint8)
    with m.run_lock:
        m.detector.process(img)
        m.detector_short.process(img)
        m.mesh.process(img)
        m.segmenter.process(img)
    if person:
        m.get_person()


@dataclass
class Face:
    box: tuple[float, float, float, float]   # x, y, w, h (analysis px)
    score: float
    source: str = "full"                     # full | short | tile | edge | person: which pass found it

    @property
    def width(self) -> float:
        return self.box[2]


@dataclass
class Analysis:
    decoded: Decoded
    rgb: np.ndarray
    detections: list[Face]                   # every detection above the model's floor
    faces: list[Face]                        # the ones counted as faces of the photo (profile thresholds)
    landmarks: np.ndarray | None = None      # (478, 3) analysis px; z in px, towards the camera negative
    mask: np.ndarray | None = None           # person probability, H×W float32
    yaw: float | None = None
    pitch: float | None = None
    roll: float | None = None
    ear_right: float | None = None
    ear_left: float | None = None
    mouth_gap: float | None = None           # inner-lip gap / mouth width
    crown_cut: bool = False                  # the hair reaches the top edge of the photo
    crown_from_mask: bool = False
    geometry_local: FaceGeometry | None = None
    extras: dict = field(default_factory=dict)

    @property
    def scale(self) -> float:
        return self.decoded.scale

    @property
    def geometry(self) -> FaceGeometry | None:
        g = self.geometry_local
        return None if g is None else g.scaled(1.0 / self.decoded.scale)

    @property
    def face(self) -> Face | None:
        return self.faces[0] if self.faces else None

    def lm(self, i: int) -> np.ndarray:
        assert self.landmarks is not None
        return self.landmarks[i]

    def pts(self, idx) -> np.ndarray:
        assert self.landmarks is not None
        return self.landmarks[list(idx), :2]


# Below this side (px) no model is run: no face fits, and MediaPipe's graphs break for good on an empty
# input (every later photo of the process would then fail), so nothing that small may reach them.
MIN_MODEL_SIDE = 16


def _run_detector(det, rgb: np.ndarray, m: _Models, dx: float = 0.0, dy: float = 0.0,
                  source: str = "full") -> list[Face]:
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_MODEL_SIDE:
        return []
    with m.run_lock:
        res = det.process(rgb)
    out = []
    for d in res.detections or []:
        bb = d.location_data.relative_bounding_box
        x, y, bw, bh = bb.xmin * w, bb.ymin * h, bb.width * w, bb.height * h
        if bw <= 2 or bh <= 2:
            continue
        out.append(Face((x + dx, y + dy, bw, bh), float(d.score[0]), source))
    return out


def _overlap(a: Face, b: Face) -> float:
    """Intersection over the smaller box (a face found twice, or a tile's half face inside a whole one)."""
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih / max(1e-6, min(aw * ah, bw * bh))


def _merge(faces: list[Face]) -> list[Face]:
    kept: list[Face] = []
    for f in sorted(faces, key=lambda f: f.score, reverse=True):
        if all(_overlap(f, k) < 0.4 for k in kept):
            kept.append(f)
    kept.sort(key=lambda f: f.box[2] * f.box[3], reverse=True)
    return kept


# Crowd pass: overlapping 3×3 tiles. A tile of ~40 % of the frame shows a 30 px face of a 1000 px group
# photo at ~17 px of the detector's 192 px input, where the full-range model still finds it; 2×2 tiles
# (~12 px) lose a third of them (retinaface_img3: 18 of 25 team faces at 2×2, 24 at 3×3).
CROWD_TILES, CROWD_OVERLAP = 3, 0.25
# Mirror pass: a window straddling the left/right edge, EDGE_WINDOW × the main face wide (a neighbour
# stands at about the same distance, so about the same face size; the short-range model wants the face
# to fill a good part of its input).
EDGE_WINDOW = 2.5
# Pose-model landmarks of the face (nose, eyes, ears, mouth corners) that must be visible for a person
# found without a face detection to count as a face (a profile shows nose, one eye, one ear, the mouth).
PERSON_NOSE, PERSON_EYES, PERSON_EARS, PERSON_MOUTH = 0, (2, 5), (7, 8), (9, 10)


def _tiles(h: int, w: int, n: int, overlap: float):
    th, tw = int(h / (n - (n - 1) * overlap)), int(w / (n - (n - 1) * overlap))
    for y0 in np.linspace(0, h - th, n).astype(int):
        for x0 in np.linspace(0, w - tw, n).astype(int):
            yield int(x0), int(y0), tw, th


def _detect(rgb: np.ndarray, m: _Models) -> list[Face]:
    """Both MediaPipe detectors on the whole image (the short-range one finds close-ups the full-range
    one misses); overlapping 3×3 tiles when neither found a face (crowds of small faces)."""
    h, w = rgb.shape[:2]
    faces = _run_detector(m.detector, rgb, m)
    # The short-range model only adds close-ups the full-range one missed: skip it when the full-range
    # model already found a large, confident face (the capture-station case).
    if not any(f.score >= 0.8 and f.width >= 0.2 * w for f in faces):
        faces += _run_detector(m.detector_short, rgb, m, source="short")
    faces = _merge(faces)
    if not faces:
        for x0, y0, tw, th in _tiles(h, w, CROWD_TILES, CROWD_OVERLAP):
            tile = np.ascontiguousarray(rgb[y0:y0 + th, x0:x0 + tw])
            faces += _run_detector(m.detector, tile, m, x0, y0, source="tile")
        faces = _merge(faces)
    return faces


def _edge_sides(mask: np.ndarray | None, face: Face, profile: Profile) -> list[str]:
    """The image sides ("L"/"R") where the person mask reaches the edge at the main face's height: a
    second person cut by the frame. A compliant portrait has background there (its shoulders reach
    the edges only below the chin), so this costs nothing on a normal photo."""
    if mask is None:
        return []
    h, w = mask.shape
    x, y, bw, bh = face.box
    y0, y1 = int(max(0, y - 0.25 * bh)), int(min(h, y + bh))
    if y1 - y0 < 4:
        return []
    band = mask[y0:y1] > 0.5
    return [side for side, col in (("L", band[:, :2]), ("R", band[:, -2:]))
            if col.any(axis=1).mean() >= profile.face_edge_rows_min]


def _detect_edges(rgb: np.ndarray, faces: list[Face], sides: list[str], m: _Models,
                  profile: Profile) -> list[Face]:
    """Faces cut by the left/right edge of the frame (a neighbour at the side of the picture).

    The strip along the edge is mirrored about the edge: a face with at least half of it in the picture
    ("about half the face or more", as ../shared/faces counts faces) becomes a whole, symmetric face
    centred on the mirror line, which the detectors find; a face with less than half shown does not.
    Only detections centred on the mirror line are kept (elsewhere the mirror only makes up faces from
    half ones inside)."""
    if not faces:
        return []
    h, w = rgb.shape[:2]
    ref = faces[0]
    half = int(min(w // 2, EDGE_WINDOW * ref.width / 2))
    if half < 16:
        return []
    _, y, _, bh = ref.box
    cy = y + bh / 2
    ys = sorted({int(np.clip(cy - half + d * half, 0, max(0, h - 2 * half))) for d in (-0.5, 0.0, 0.5)})
    found: list[Face] = []
    for side in sides:
        for y0 in ys:
            part = rgb[y0:y0 + 2 * half, :half] if side == "L" else rgb[y0:y0 + 2 * half, w - half:]
            win = np.concatenate([part[:, ::-1], part] if side == "L" else [part, part[:, ::-1]], axis=1)
            win = np.ascontiguousarray(win)
            for det in (m.detector_short, m.detector):
                for f in _run_detector(det, win, m, source="edge"):
                    fx, fy, fw, fh = f.box
                    if abs(fx + fw / 2 - half) > profile.face_edge_centre_max * fw:
                        continue
                    if f.score < profile.face_short_score_min or fw < profile.face_rel_size_min * ref.width:
                        continue
                    # A real face, mirrored whole, gets a face mesh (a pattern that only fools the detector
                    # does not): the same confirmation the crowd tiles use.
                    if _mesh_on_crop(win, f, m) is None:
                        continue
                    # Back to image pixels: the visible half of the box.
                    gx = 0.0 if side == "L" else float(w - half + fx)
                    vis = (gx, fy + y0, fw / 2, fh)
                    found.append(Face(vis, f.score, "edge"))
    return [f for f in _merge(found) if all(_overlap(f, k) < 0.4 for k in faces)]


def _detect_person(rgb: np.ndarray, m: _Models, profile: Profile) -> list[Face]:
    """A face the face detectors cannot see (profile, bowed head, hair or light over it) but a person
    detector can: the pose model's face landmarks (nose, an eye, an ear or the mouth) visible. Only run
    when no face was found at all; landscapes and empty rooms find no person."""
    person = m.get_person()
    with m.run_lock:
        res = person.process(rgb)
    if not res.pose_landmarks:
        return []
    h, w = rgb.shape[:2]
    lm = res.pose_landmarks.landmark
    vis = profile.face_person_visibility_min
    seen = lambda i: lm[i].visibility >= vis and 0 <= lm[i].x <= 1 and 0 <= lm[i].y <= 1  # noqa: E731
    if not (seen(PERSON_NOSE) and any(seen(i) for i in PERSON_EYES)
            and any(seen(i) for i in PERSON_EARS + PERSON_MOUTH)):
        return []
    idx = (PERSON_NOSE, *PERSON_EYES, *PERSON_EARS, *PERSON_MOUTH)
    pts = np.array([(lm[i].x * w, lm[i].y * h) for i in idx if seen(i)])
    c = pts.mean(axis=0)
    # The face is about twice the span of these points (eyes-to-mouth is about half the face height).
    side = max(8.0, 2.0 * float(np.ptp(pts, axis=0).max()))
    return [Face((float(c[0] - side / 2), float(c[1] - side / 2), side, side), 1.0, "person")]


def _select_faces(dets: list[Face], profile: Profile, confirm=None) -> list[Face]:
    """The detections that count as faces of the photo. ``confirm(face) -> bool`` (the face mesh) may
    admit a short-range or tile detection below its floor but at least ``face_confirm_score_min``:
    small crowd faces score 0.6–0.8 there, and so do the false detections the floors keep out, but
    only real faces get a mesh."""
    floor = {"full": profile.face_score_min, "short": profile.face_short_score_min,
             "tile": profile.face_tile_score_min, "edge": profile.face_short_score_min, "person": 0.0}
    good = [f for f in dets if f.score >= floor[f.source]
            or (confirm is not None and f.source != "full" and f.score >= profile.face_confirm_score_min
                and confirm(f))]
    if not good:
        return []
    big = max(f.width for f in good)
    return [f for f in good if f.width >= profile.face_rel_size_min * big]


def _mesh_on_crop(rgb: np.ndarray, face: Face, m: _Models) -> np.ndarray | None:
    """Face mesh on a square crop around the face (the mesh's own detector misses small faces)."""
    import cv2

    h, w = rgb.shape[:2]
    x, y, bw, bh = face.box
    cx, cy = x + bw / 2, y + bh / 2
    side = 2.2 * max(bw, bh)
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = int(round(side))
    pad = (max(0, -y0), max(0, y0 + s - h), max(0, -x0), max(0, x0 + s - w))
    crop = rgb[max(0, y0):min(h, y0 + s), max(0, x0):min(w, x0 + s)]
    if any(pad):
        crop = cv2.copyMakeBorder(crop, *pad, borderType=cv2.BORDER_CONSTANT, value=(0, 0, 0))
    f = 1.0
    if s > 512:  # the mesh looks at 192 px anyway
        f = 384 / s
        crop = cv2.resize(crop, (384, 384), interpolation=cv2.INTER_AREA)
    crop = np.ascontiguousarray(crop)
    with m.run_lock:
        res = m.mesh.process(crop)
    if not res.multi_face_landmarks:
        return None
    cs = crop.shape[1]
    lm = np.array([(p.x, p.y, p.z) for p in res.multi_face_landmarks[0].landmark], np.float64)
    lm *= cs
    lm /= f
    lm[:, 0] += x0
    lm[:, 1] += y0
    # The mesh must belong to the detected face (not a neighbour in the crop).
    mx, my = lm[:, 0].mean(), lm[:, 1].mean()
    if not (x - 0.25 * bw <= mx <= x + 1.25 * bw and y - 0.25 * bh <= my <= y + 1.25 * bh):
        return None
    return lm


def _segment(rgb: np.ndarray, m: _Models) -> np.ndarray | None:
    with m.run_lock:
        res = m.segmenter.process(rgb)
    mask = res.segmentation_mask
    return None if mask is None else np.asarray(mask, np.float32)


def _pose(lm: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch, roll in degrees from the mesh's 3D landmarks (weak perspective).

    Roll: the line through the iris centres. Yaw/pitch: the normal of the face plane spanned by the
    cheek-to-cheek axis and the forehead-to-chin axis (z from the mesh, same units as x)."""
    p = lm
    er, el = p[IRIS_R], p[IRIS_L]
    roll = math.degrees(math.atan2(el[1] - er[1], el[0] - er[0]))
    xaxis = p[EYE_L["outer"]] - p[EYE_R["outer"]] + p[CHEEK_L] - p[CHEEK_R]
    yaxis = p[CHIN] - p[FOREHEAD]
    xaxis = xaxis / np.linalg.norm(xaxis)
    yaxis = yaxis - xaxis * np.dot(yaxis, xaxis)
    yaxis = yaxis / np.linalg.norm(yaxis)
    n = np.cross(xaxis, yaxis)   # the face's normal, pointing away from the camera (+z) on a frontal face
    # Yaw/pitch are the normal's tilt out of the camera axis; roll does not change the normal.
    yaw = math.degrees(math.atan2(n[0], n[2]))
    pitch = math.degrees(math.atan2(-n[1], math.hypot(n[0], n[2])))
    return yaw, pitch, roll


def _upside_down(rgb: np.ndarray, face: Face, m: _Models, profile: Profile) -> bool:
    """Whether the photo is upside down. Every MediaPipe model here expects an upright person: on an
    upside-down face the detector still fires (with a lower score) and puts the eyes above the mouth,
    and the mesh fits an upright face to it (roll about 0). Turned half a turn, the same face scores
    higher. Only asked when the score is below ``profile.upright_score_min``: a studio portrait scores
    above it, so the capture station pays nothing."""
    if face.source not in ("full", "short") or face.score >= profile.upright_score_min:
        return False
    h, w = rgb.shape[:2]
    x, y, bw, bh = face.box
    turned = Face((w - x - bw, h - y - bh, bw, bh), face.score, face.source)   # the same box, turned
    det = m.detector if face.source == "full" else m.detector_short
    best = max((f.score for f in _run_detector(det, np.ascontiguousarray(rgb[::-1, ::-1]), m, source=face.source)
                if _overlap(f, turned) >= 0.5), default=0.0)
    return best >= face.score + profile.upright_score_margin


def _ear(lm: np.ndarray, eye: dict) -> float:
    width = np.linalg.norm(lm[eye["outer"], :2] - lm[eye["inner"], :2])
    gaps = [np.linalg.norm(lm[t, :2] - lm[b, :2]) for t, b in zip(eye["top"], eye["bottom"])]
    return float(np.mean(gaps) / max(width, 1e-6))


def _crown(mask: np.ndarray | None, lm: np.ndarray, fw: float) -> tuple[float, bool, bool]:
    """Top of the hair: the highest person-mask row above the forehead, over the central columns.

    Returns (crown_y, from_mask, cut_at_top)."""
    top_lm = float(lm[FOREHEAD, 1])
    chin = float(lm[CHIN, 1])
    fallback = top_lm - 0.28 * (chin - top_lm)   # typical hair height over the hairline (TUCAI)
    if mask is None:
        return fallback, False, fallback < 0
    h, w = mask.shape
    cx = float(np.mean(lm[[IRIS_R, IRIS_L], 0]))
    x0, x1 = int(max(0, cx - 0.3 * fw)), int(min(w, cx + 0.3 * fw))
    y_fore = int(np.clip(top_lm, 0, h - 1))
    if x1 - x0 < 3:
        return fallback, False, fallback < 0
    band = mask[: y_fore + 1, x0:x1] > 0.5
    if not band[-1].any():
        return fallback, False, fallback < 0
    # For each column on at the forehead: walk up while the mask stays on (the run of True from the
    # bottom row: the first False seen from below, or the whole column).
    up = band[::-1, band[-1]]
    off = ~up
    run = np.where(off.any(axis=0), off.argmax(axis=0), up.shape[0])
    tops = y_fore - run + 1
    crown = float(np.percentile(tops, 10))
    # A crown far above the face is a segmentation error (hat tops are allowed: head.cover judges those).
    if crown < top_lm - 1.2 * (chin - top_lm):
        return fallback, False, fallback < 0
    cut = crown <= 1.0
    return crown, True, cut


def analyse(decoded: Decoded, profile: Profile) -> Analysis:
    m = MODELS.get()
    rgb = decoded.rgb
    if min(rgb.shape[:2]) < MIN_MODEL_SIDE:
        # A strip or a thumbnail: no face can be in it, and the models must not see it (see MIN_MODEL_SIDE).
        return Analysis(decoded=decoded, rgb=rgb, detections=[], faces=[])
    dets = _detect(rgb, m)
    faces = _select_faces(dets, profile, confirm=lambda f: _mesh_on_crop(rgb, f, m) is not None)
    mask = _segment(rgb, m)
    upside_down = False
    if faces:
        sides = _edge_sides(mask, faces[0], profile)
        if sides:
            edge = _detect_edges(rgb, faces, sides, m, profile)
            dets, faces = dets + edge, faces + edge
    else:
        person = _detect_person(rgb, m, profile)
        dets, faces = dets + person, person
        if not person:
            # No face, no person: perhaps an upside-down photo (the models expect upright people and often
            # miss one turned over, where the detector finds it once the picture is turned back).
            turned = _run_detector(m.detector, np.ascontiguousarray(rgb[::-1, ::-1]), m)
            upside_down = any(f.score >= profile.face_score_min for f in turned)
    a = Analysis(decoded=decoded, rgb=rgb, detections=dets, faces=faces)
    if not faces and upside_down:
        a.extras["upside_down"] = True
    a.mask = mask
    if len(faces) == 0:
        return a
    lm = _mesh_on_crop(rgb, faces[0], m)
    if lm is None:
        return a
    a.landmarks = lm
    a.yaw, a.pitch, a.roll = _pose(lm)
    # (A face turned on its side reads its roll itself; only a near-upright reading can be upside down.)
    if abs(a.roll) <= profile.rotated_roll_deg and _upside_down(rgb, faces[0], m, profile):
        # The mesh fitted an upright face to it: the true roll is half a turn from its reading.
        a.roll = (a.roll + 360.0) % 360.0 - 180.0
        a.extras["upside_down"] = True
    a.pitch -= profile.pitch_offset_deg
    a.ear_right, a.ear_left = _ear(lm, EYE_R), _ear(lm, EYE_L)
    mw = np.linalg.norm(lm[MOUTH_OUTER_L, :2] - lm[MOUTH_OUTER_R, :2])
    a.mouth_gap = float(np.linalg.norm(lm[LIP_INNER_TOP, :2] - lm[LIP_INNER_BOTTOM, :2]) / max(mw, 1e-6))
    oval = lm[list(FACE_OVAL)]
    left, right = float(oval[:, 0].min()), float(oval[:, 0].max())
    crown, from_mask, cut = _crown(a.mask, lm, right - left)
    a.crown_from_mask, a.crown_cut = from_mask, cut
    a.geometry_local = FaceGeometry(
        crown_y=crown, eye_y=float((lm[IRIS_R, 1] + lm[IRIS_L, 1]) / 2),
        eye_mid_x=float((lm[IRIS_R, 0] + lm[IRIS_L, 0]) / 2), face_left=left, face_right=right,
        chin_y=float(lm[CHIN, 1]),
    )
    return a
