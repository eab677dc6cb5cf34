"""Test and bench images: a compliant portrait built from a real one, and the usual ways to spoil it.

The labelled real photos in ../shared/faces may not be redistributed, so no portrait ships with the
repository; tests and benches build what they need at run time from a real frontal photo: the person
(selfie segmentation) is placed on the reference blue at the CHSI geometry. Variants change one thing
at a time (background colour or clutter, roll, blur, darkness, a second face, shirt colour ...).
:func:`drawn_portrait` + :func:`drawn_analysis` give a drawn portrait and the Analysis a face model
would have produced, for tests that must run without any real photo.
Used by tests/photo and bench/; nothing in the capture path imports this module.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from tucai.photo import analysis
from tucai.photo.decode import Decoded
from tucai.photo.spec import CHSI, Profile

BLUE = CHSI.background("blue").rgb
SEGMENTATION_PX = 256       # the selfie-segmentation model's mask is 256 px across the longer side
BACKDROP_CONTRAST = 40.0    # RGB distance between person and backdrop colour below which colour cannot place the edge


def person_mask(rgb: np.ndarray) -> np.ndarray:
    """Soft person alpha (0..1, float32) from selfie segmentation, edges slightly smoothed."""
    m = analysis.MODELS.get()
    mask = analysis._segment(np.ascontiguousarray(rgb), m)
    if mask is None:
        raise ValueError("segmentation failed")
    return cv2.GaussianBlur(np.clip(mask, 0, 1), (0, 0), max(1.0, rgb.shape[1] / 600))


def _analyse_rgb(rgb: np.ndarray, profile: Profile = CHSI):
    d = Decoded(rgb=np.ascontiguousarray(rgb), scale=1.0, original_size=(rgb.shape[1], rgb.shape[0]), format="RAW",
                data=b"")
    return analysis.analyse(d, profile)


def clean_person_alpha(alpha: np.ndarray, *, seed_xy: tuple[float, float], face_width: float,
                       chin_y: float) -> np.ndarray:
    """A hard (0/1, float32) person mask from a soft segmentation: the part over 0.5 joined to the face
    (``seed_xy``); beside the head only within 4 % of ``face_width`` of the confident (> 0.9) region.

    Pasted as is, half-confident pixels become translucent smudges on the blue, which the background
    checks rightly see, and pieces not joined to the person (a logo) are not the person. Around the
    head segmentation is sure of the outline, so a wide half-confident zone there is something else (a
    statue behind the ear, a wall's glow); below the chin a dark suit on a dark backdrop is itself only
    half-confident, so there the 0.5 cut is kept. The edge is feathered again after scaling."""
    hard = alpha > 0.5
    core = (alpha > 0.9).astype(np.uint8)
    if core.any():
        dist = cv2.distanceTransform(1 - core, cv2.DIST_L2, 3)
        head_zone = np.zeros_like(hard)
        head_zone[: max(0, int(chin_y + 0.2 * face_width))] = True
        hard &= ~head_zone | (dist <= max(2.0, 0.04 * face_width))
    n, labels = cv2.connectedComponents(hard.astype(np.uint8), connectivity=8)
    if n <= 2:
        return hard.astype(np.float32)
    x, y = (int(np.clip(round(v), 0, lim - 1)) for v, lim in zip(seed_xy, (alpha.shape[1], alpha.shape[0])))
    pick = labels[y, x]
    if pick == 0:           # the seed fell in a gap of the mask: the largest component is the person
        pick = 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
    return (labels == pick).astype(np.float32)


def _smooth_fill(values: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-blurred ``values·weight`` and ``weight`` at ``sigma`` (on a reduced copy for big sigmas)."""
    f = max(1.0, sigma / 4)
    h, w = weight.shape
    if f > 1.5:
        size = (max(1, round(w / f)), max(1, round(h / f)))
        v = cv2.resize(values * weight[..., None], size, interpolation=cv2.INTER_AREA)
        ws = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
        v, ws = cv2.GaussianBlur(v, (0, 0), sigma / f), cv2.GaussianBlur(ws, (0, 0), sigma / f)
        return (cv2.resize(v, (w, h), interpolation=cv2.INTER_LINEAR),
                cv2.resize(ws, (w, h), interpolation=cv2.INTER_LINEAR))
    return cv2.GaussianBlur(values * weight[..., None], (0, 0), sigma), cv2.GaussianBlur(weight, (0, 0), sigma)


def person_colours(rgb: np.ndarray, known: np.ndarray, *, reach_px: float,
                   need: np.ndarray | None = None) -> np.ndarray:
    """``rgb`` with every pixel outside ``known`` (bool; only those in ``need`` if given) replaced by
    the colour of the ``known`` pixels near it (normalised convolution at growing scales, up to 16 ×
    ``reach_px``; pixels farther out keep their colour).

    The soft edge of a composite must mix the person's colour with the NEW background only; the source
    pixels at the edge already hold the old backdrop (a yellow wall gives a yellow halo on the blue)."""
    if not known.any():
        return rgb.copy()
    r = max(1.0, float(reach_px))
    w = known.astype(np.float32)
    src = rgb.astype(np.float32)
    out = src.copy()
    todo = ~known if need is None else need & ~known
    sigma = r
    while todo.any() and sigma <= 16 * r:
        cs, ws = _smooth_fill(src, w, sigma)
        got = todo & (ws > 1e-3)
        out[got] = cs[got] / ws[got][:, None]
        todo &= ~got
        sigma *= 2
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def compliant_portrait(src_rgb: np.ndarray, *, size: tuple[int, int] = (1080, 1360), background=BLUE,
                       margin: float = 0.06, face_width_out: float = 240.0, eye_y_out: float = 250.0,
                       profile: Profile = CHSI) -> tuple[np.ndarray, np.ndarray]:
    """Place the person of ``src_rgb`` (a frontal portrait) on ``background`` at the CHSI geometry.

    The 480×640 frame is a 3:4 region of the canvas, ``margin`` × its width in from the left, right and
    top edges (room for the normaliser to crop), in which the face is ``face_width_out`` wide (at 480
    px) with the eyes at ``eye_y_out`` — lower, and the face narrower, where high hair would otherwise
    put the crown above the middle of its band (as a photographer frames such a head). Returns (rgb
    uint8, person alpha float32), both ``size`` (w, h).
    Below the source picture the clothing is extended by edge replication (portraits end at the chest)."""
    a = _analyse_rgb(src_rgb, profile)
    if a.geometry_local is None:
        raise ValueError("no single face with landmarks in the source portrait")
    g = a.geometry_local
    # Keep the crown at or below the middle of its band and the eyes 10 px inside theirs (measurement
    # noise), narrowing the face (not below its band + 10 px) where the crown-to-eye height needs it.
    crown_eye = max(g.eye_y - g.crown_y, 1.0) / g.face_width          # in face widths
    eye_max, crown_min = profile.eye_y.hi - 10, profile.crown_y.mid
    face_width_out = max(min(face_width_out, (eye_max - crown_min) / crown_eye), profile.face_width.lo + 10)
    eye_y_out = min(max(eye_y_out, crown_min + crown_eye * face_width_out), eye_max)
    hard = clean_person_alpha(person_mask(src_rgb), seed_xy=(g.centre_x, (g.eye_y + g.chin_y) / 2),
                              face_width=g.face_width, chin_y=g.chin_y)
    W, H = size
    frame_w = W / (1 + 2 * margin)
    fx0, fy0 = margin * frame_w, margin * frame_w
    px = frame_w / profile.width                       # canvas px per output px
    k = face_width_out * px / g.face_width
    tx = fx0 + frame_w / 2 - g.centre_x * k
    ty = fy0 + eye_y_out * px - g.eye_y * k
    M = np.array([[k, 0, tx], [0, k, ty]], np.float64)
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC
    # The edge is feathered over about one source pixel (at least one canvas pixel) after scaling: as
    # soft as the person's own edge in the scaled picture, no softer.
    feather = max(1.0, 0.6 * k)
    # Extend the source downward only (the chest continues below the picture); beyond its other edges
    # there is no person (alpha 0), so nothing is smeared sideways or upward.
    extra = int(math.ceil(H / k))
    src_ext = cv2.copyMakeBorder(src_rgb, 0, extra, 0, 0, cv2.BORDER_REPLICATE)
    al_ext = cv2.copyMakeBorder(hard, 0, extra, 0, 0, cv2.BORDER_REPLICATE)
    person = cv2.warpAffine(src_ext, M, (W, H), flags=interp, borderMode=cv2.BORDER_REPLICATE)
    hard_c = cv2.warpAffine(al_ext, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=0) > 0.5
    # The person's outline is only known to the segmentation's own precision (±1.5 px of its 256-px
    # mask: a strip of white wall by the ear, a statue's rim), and each edge pixel mixes person and old
    # backdrop. Over that band the edge is re-estimated from colour: the person's colour F from the
    # interior and the backdrop's B from outside, alpha = the projection of the pixel on B→F (F, B are
    # spread into the band by normalised convolution). Where F and B are alike (a dark suit on a dark
    # wall) colour says nothing and the segmentation's edge stays.
    seg_px = max(src_rgb.shape[:2]) / SEGMENTATION_PX
    band = max(k, 2.5 * feather, 1.5 * seg_px * k)
    h8 = hard_c.astype(np.uint8)
    depth_in = cv2.distanceTransform(h8, cv2.DIST_L2, 3)          # px to the edge, inside the person
    depth_out = cv2.distanceTransform(1 - h8, cv2.DIST_L2, 3)     # and outside
    in_band = (depth_in <= band) & (depth_out <= band)
    fg = person_colours(person, depth_in > band, reach_px=band, need=in_band).astype(np.float32)
    bgc = person_colours(person, depth_out > band, reach_px=band, need=in_band).astype(np.float32)
    d = fg - bgc
    dd = (d * d).sum(axis=2)
    proj = np.clip(((person.astype(np.float32) - bgc) * d).sum(axis=2) / np.maximum(dd, 1.0), 0, 1)
    # Colour only takes away (backdrop inside the mask), never adds outside it: a guess there is a ghost.
    al = np.where(in_band & (dd > BACKDROP_CONTRAST ** 2) & hard_c, proj, hard_c).astype(np.float32)
    al = np.clip(cv2.GaussianBlur(al, (0, 0), feather), 0, 1)
    # Mixed pixels take the person's colour; the clearly-person ones keep their own detail (hair).
    person = np.where((in_band & (proj < 0.9))[..., None], fg, person).astype(np.uint8)
    return composite(person, al, background), al


def composite(person: np.ndarray, alpha: np.ndarray, background) -> np.ndarray:
    """``person`` over ``background`` (an RGB triple or an image of the same size)."""
    if isinstance(background, tuple):
        bg = np.empty_like(person)
        bg[:] = background
    else:
        bg = background
    a = alpha[..., None].astype(np.float32)
    return np.clip(person * a + bg * (1 - a) + 0.5, 0, 255).astype(np.uint8)


def cluttered_background(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A busy scene: random coloured rectangles, lines and text on a mid-grey wall."""
    rng = np.random.default_rng(seed)
    W, H = size
    bg = np.full((H, W, 3), 150, np.uint8)
    for _ in range(40):
        x0, y0 = int(rng.integers(0, W)), int(rng.integers(0, H))
        x1, y1 = x0 + int(rng.integers(20, W // 3)), y0 + int(rng.integers(20, H // 3))
        cv2.rectangle(bg, (x0, y0), (x1, y1), tuple(int(c) for c in rng.integers(0, 255, 3)), -1)
    for _ in range(30):
        p0 = (int(rng.integers(0, W)), int(rng.integers(0, H)))
        p1 = (int(rng.integers(0, W)), int(rng.integers(0, H)))
        cv2.line(bg, p0, p1, tuple(int(c) for c in rng.integers(0, 255, 3)), 3)
    for i in range(8):
        cv2.putText(bg, "EXIT 42", (int(rng.integers(0, W - 100)), int(rng.integers(20, H))),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.2, (20, 20, 20), 2)
    return bg


def gradient_background(size: tuple[int, int], rgb=BLUE, drop: float = 0.45) -> np.ndarray:
    """``rgb`` darkening from left to right by ``drop`` (a one-sided shadow / light fall-off)."""
    W, H = size
    f = np.linspace(1.0, 1.0 - drop, W, dtype=np.float32)[None, :, None]
    return np.clip(np.array(rgb, np.float32)[None, None, :] * f + np.zeros((H, 1, 1), np.float32), 0, 255
                   ).astype(np.uint8)


def recolour_clothing(rgb: np.ndarray, alpha: np.ndarray, below_y: int, colour: tuple[int, int, int]) -> np.ndarray:
    """Dye the person below ``below_y`` (the torso) with ``colour``, keeping the folds' shading."""
    out = rgb.copy()
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    body = alpha[below_y:] > 0.5
    shade = 1.0 + 0.8 * (grey - grey[below_y:][body].mean()) if body.any() else np.ones_like(grey)
    dyed = np.clip(np.array(colour, np.float32)[None, None, :] * np.clip(shade, 0.3, 1.4)[..., None], 0, 255)
    a = np.zeros_like(alpha)
    a[below_y:] = alpha[below_y:]
    a = a[..., None]
    return np.clip(out * (1 - a) + dyed * a + 0.5, 0, 255).astype(np.uint8)


def rotate(rgb: np.ndarray, degrees: float, border=BLUE) -> np.ndarray:
    """Rotate about the centre (positive = counter-clockwise), filling with ``border``."""
    H, W = rgb.shape[:2]
    M = cv2.getRotationMatrix2D((W / 2, H / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=tuple(int(c) for c in border))


def blur(rgb: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(rgb, (0, 0), sigma)


def darken(rgb: np.ndarray, factor: float) -> np.ndarray:
    """Scale linear light by ``factor`` (an under-exposed shot)."""
    lin = (rgb.astype(np.float32) / 255.0) ** 2.2 * factor
    return np.clip(lin ** (1 / 2.2) * 255 + 0.5, 0, 255).astype(np.uint8)


def half_shadow(rgb: np.ndarray, x_split: float, factor: float = 0.35) -> np.ndarray:
    """Darken everything right of ``x_split`` (one lamp off: a half-shadowed face)."""
    out = rgb.copy()
    xs = int(x_split)
    out[:, xs:] = darken(rgb[:, xs:], factor)
    return out


def paste_face(dst: np.ndarray, src: np.ndarray, box: tuple[int, int, int, int], at: tuple[int, int],
               scale: float) -> np.ndarray:
    """Paste the ``box`` (x0, y0, x1, y1) of ``src`` scaled by ``scale`` with its top-left at ``at``."""
    x0, y0, x1, y1 = box
    patch = cv2.resize(src[y0:y1, x0:x1], (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))),
                       interpolation=cv2.INTER_AREA)
    out = dst.copy()
    X, Y = at
    h, w = patch.shape[:2]
    h, w = min(h, out.shape[0] - Y), min(w, out.shape[1] - X)
    out[Y:Y + h, X:X + w] = patch[:h, :w]
    return out


def camera_jpeg(rgb: np.ndarray, size: tuple[int, int], *, quality: int = 92, noise: float = 2.0, seed: int = 0) -> bytes:
    """Upscale ``rgb`` to ``size`` (e.g. 4000×6000 = 24 MP) with sensor-like noise and encode it as a
    camera would (4:2:0 JPEG, ``quality``)."""
    from io import BytesIO

    from PIL import Image

    big = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
    if noise > 0:
        rng = np.random.default_rng(seed)
        n = rng.normal(0, noise, big.shape[:2] + (1,)).astype(np.float32)   # luminance-like noise
        big = np.clip(big.astype(np.float32) + n, 0, 255).astype(np.uint8)
    buf = BytesIO()
    Image.fromarray(big, "RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def jpeg_bytes(rgb: np.ndarray, quality: int = 95) -> bytes:
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


# --- a drawn portrait with a matching Analysis (no face model, no real photo needed) -------------------

def drawn_portrait(size: tuple[int, int] = (960, 1280), *, background=BLUE, shirt=(40, 40, 45),
                   skin=(222, 178, 150), hair=(35, 28, 24), texture: float = 12.0, seed: int = 0):
    """A drawn head-and-shoulders portrait at the CHSI geometry and its person mask and FaceGeometry.

    For tests that must run without real photos: MediaPipe does not find a face in it, so pair it with
    :func:`drawn_analysis`, which supplies the landmarks a detector would have. ``texture`` adds skin/
    cloth grain (what the sharpness check sees)."""
    W, H = size
    px = W / 480
    cx, eye_y, fw = W / 2, 250 * px, 240 * px
    crown, chin = 80 * px, eye_y + 0.78 * fw
    face_cy, face_ry = (eye_y - 0.42 * fw + chin) / 2, (chin - (eye_y - 0.42 * fw)) / 2
    mask = np.zeros((H, W), np.uint8)
    img = np.empty((H, W, 3), np.uint8)
    img[:] = background
    body = np.zeros((H, W), np.uint8)
    cv2.ellipse(body, (round(cx), round(H + 0.3 * fw)), (round(1.15 * fw), round(H - chin + 0.55 * fw)), 0, 0, 360, 1, -1)
    body[: round(chin + 0.25 * fw)] = 0
    neck = np.zeros((H, W), np.uint8)
    cv2.rectangle(neck, (round(cx - 0.22 * fw), round(chin - 0.2 * fw)), (round(cx + 0.22 * fw), round(chin + 0.4 * fw)), 1, -1)
    head_hair = np.zeros((H, W), np.uint8)
    cv2.ellipse(head_hair, (round(cx), round((crown + chin) / 2 - 0.05 * fw)), (round(0.56 * fw), round((chin - crown) / 2)),
                0, 0, 360, 1, -1)
    face = np.zeros((H, W), np.uint8)
    cv2.ellipse(face, (round(cx), round(face_cy)), (round(fw / 2), round(face_ry)), 0, 0, 360, 1, -1)
    rng = np.random.default_rng(seed)
    grain = rng.normal(0, texture, (H, W, 1)).astype(np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), 0.7)[..., None] if texture > 0 else 0

    def paint(region, colour):
        val = np.clip(np.array(colour, np.float32)[None, None, :] + grain, 0, 255).astype(np.uint8)
        img[region.astype(bool)] = val[region.astype(bool)] if texture > 0 else colour

    paint(body, shirt)
    paint(neck, skin)
    paint(head_hair & ~face.astype(bool), hair)
    paint(face, skin)
    # Eyes, brows, mouth: dark marks where the drawn landmarks say.
    for s in (-1, 1):
        ex = cx + s * 0.21 * fw
        cv2.ellipse(img, (round(ex), round(eye_y)), (round(0.11 * fw), round(0.035 * fw)), 0, 0, 360, (215, 212, 210), -1)
        cv2.circle(img, (round(ex), round(eye_y)), round(0.03 * fw), (60, 40, 30), -1)
        cv2.line(img, (round(ex - 0.11 * fw), round(eye_y - 0.12 * fw)), (round(ex + 0.11 * fw), round(eye_y - 0.12 * fw)),
                 (50, 35, 30), max(2, round(0.02 * fw)))
    cv2.line(img, (round(cx - 0.15 * fw), round(eye_y + 0.5 * fw)), (round(cx + 0.15 * fw), round(eye_y + 0.5 * fw)),
             (170, 90, 90), max(2, round(0.015 * fw)))
    mask = (body | neck | head_hair | face).astype(np.float32)
    from tucai.photo.geometry import FaceGeometry

    g = FaceGeometry(crown_y=crown, eye_y=eye_y, eye_mid_x=cx, face_left=cx - fw / 2, face_right=cx + fw / 2, chin_y=chin)
    return img, mask, g


def drawn_landmarks(g) -> np.ndarray:
    """478 landmark positions for a drawn face of geometry ``g`` (the indices the checks read are placed
    where a face mesh would put them; the others sit at the face centre). z = 0: a frontal face."""
    from tucai.photo import analysis as an

    fw, cx, ey = g.face_width, g.eye_mid_x, g.eye_y
    top, chin = ey - 0.42 * fw, g.chin_y
    cy, ry = (top + chin) / 2, (chin - top) / 2
    lm = np.zeros((478, 3), np.float64)
    lm[:, 0], lm[:, 1] = cx, cy
    n = len(an.FACE_OVAL)
    for k, i in enumerate(an.FACE_OVAL):          # clockwise from the forehead (10) through 454, 152, 234
        t = math.radians(-90 + 360 * k / n)
        lm[i, :2] = (cx + fw / 2 * math.cos(t), cy + ry * math.sin(t))
    for eye, s in ((an.EYE_R, -1), (an.EYE_L, 1)):
        ex = cx + s * 0.21 * fw
        lm[eye["outer"], :2] = (ex + s * 0.11 * fw, ey)
        lm[eye["inner"], :2] = (ex - s * 0.11 * fw, ey)
        for j, (t, b) in enumerate(zip(eye["top"], eye["bottom"])):
            x = ex + (j - 1) * 0.04 * fw
            lm[t, :2] = (x, ey - 0.032 * fw)
            lm[b, :2] = (x, ey + 0.032 * fw)
    for iris, ring, s in ((an.IRIS_R, an.IRIS_R_RING, -1), (an.IRIS_L, an.IRIS_L_RING, 1)):
        ex = cx + s * 0.21 * fw
        lm[iris, :2] = (ex, ey)
        for j, r in enumerate(ring):
            t = math.radians(90 * j)
            lm[r, :2] = (ex + 0.03 * fw * math.cos(t), ey + 0.03 * fw * math.sin(t))
    for brow, s in ((an.BROW_R, -1), (an.BROW_L, 1)):
        for j, i in enumerate(brow):
            lm[i, :2] = (cx + s * (0.1 + 0.022 * j) * fw, ey - 0.12 * fw)
    for patch, s in ((an.CHEEK_PATCH_R, -1), (an.CHEEK_PATCH_L, 1)):
        for j, i in enumerate(patch):
            t = math.radians(45 * j)
            lm[i, :2] = (cx + s * 0.24 * fw + 0.06 * fw * math.cos(t), ey + 0.22 * fw + 0.06 * fw * math.sin(t))
    my = ey + 0.5 * fw
    lm[an.LIP_INNER_TOP, :2] = lm[an.LIP_INNER_BOTTOM, :2] = (cx, my)
    lm[an.MOUTH_OUTER_R, :2], lm[an.MOUTH_OUTER_L, :2] = (cx - 0.15 * fw, my), (cx + 0.15 * fw, my)
    lm[an.MOUTH_CORNER_R, :2], lm[an.MOUTH_CORNER_L, :2] = (cx - 0.13 * fw, my), (cx + 0.13 * fw, my)
    lm[an.NOSE_TIP, :2] = (cx, ey + 0.3 * fw)
    lm[an.FOREHEAD, :2], lm[an.CHIN, :2] = (cx, top), (cx, chin)
    lm[an.CHEEK_R, 0], lm[an.CHEEK_L, 0] = cx - fw / 2, cx + fw / 2
    return lm


def drawn_analysis(rgb: np.ndarray, mask: np.ndarray, g, profile: Profile = CHSI):
    """An :class:`~tucai.photo.analysis.Analysis` of a drawn portrait as if the models had run:
    one face, landmarks from :func:`drawn_landmarks`, the drawn person mask, pose/eyes/mouth measured
    from those landmarks the way :func:`tucai.photo.analysis.analyse` does."""
    from tucai.photo import analysis as an

    lm = drawn_landmarks(g)
    d = Decoded(rgb=np.ascontiguousarray(rgb), scale=1.0, original_size=(rgb.shape[1], rgb.shape[0]), format="RAW",
                data=b"")
    face = an.Face((g.face_left, g.crown_y, g.face_width, g.chin_y - g.crown_y), 0.99)
    a = an.Analysis(decoded=d, rgb=d.rgb, detections=[face], faces=[face], landmarks=lm, mask=mask.astype(np.float32))
    a.yaw, a.pitch, a.roll = an._pose(lm)
    a.pitch -= profile.pitch_offset_deg
    a.ear_right, a.ear_left = an._ear(lm, an.EYE_R), an._ear(lm, an.EYE_L)
    a.mouth_gap = 0.0
    a.geometry_local = g
    a.crown_from_mask = True
    return a
