"""The photo spec as data. Every number a check or layout uses lives here, with its source.

Sources (abbreviations used in ``SOURCES``):

* ``CHSI2017``: 教毕指〔2017〕99号《高等教育学历证书电子注册图像采集规范》 as quoted by college notices
  (480×640, 300 dpi, 24-bit, JPEG, quality ≥ 60, geometry bands, backgrounds).
* ``XINHUA_HN``: 新华社湖南分社大学生图像采集中心 notices (file ≤ 40 KB, blue background).
* ``NOTICE2024``: ../shared/seed/notice-2024-graduate-photo-capture.txt (prints, fee, clothing colours).
* ``ISO19794``: ISO/IEC 19794-5 practice for pose tolerances (±5° yaw/pitch, ±8° roll).
* ``TUCAI``: our own engineering choice, tuned on ../shared/faces; a heuristic, not a rule of the spec.
* ``GB_PRINT``: trade print sizes (1寸 25×35 mm, 1.5寸/大一寸 33×48 mm, 6寸 4R 102×152 mm, 5寸 3R 89×127 mm).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

MM_PER_INCH = 25.4


def mm_to_px(mm: float, dpi: int = 300) -> int:
    """Millimetres to whole pixels at ``dpi`` (1 mm = 11.811 px at 300 dpi)."""
    return round(mm * dpi / MM_PER_INCH)


@dataclass(frozen=True)
class Band:
    lo: float
    hi: float

    def contains(self, v: float) -> bool:
        return self.lo <= v <= self.hi

    @property
    def mid(self) -> float:
        return (self.lo + self.hi) / 2


@dataclass(frozen=True)
class Background:
    name: str
    rgb: tuple[int, int, int]


@dataclass(frozen=True)
class Profile:
    """One photo profile: the output file, the geometry on the canvas and the check thresholds."""

    id: str
    title_zh: str
    title_en: str
    width: int = 480
    height: int = 640
    dpi: int = 300
    jpeg_quality_min: int = 60
    jpeg_quality_start: int = 92
    size_kb: Band = Band(20, 40)
    backgrounds: tuple[Background, ...] = (
        Background("blue", (100, 197, 255)),
        Background("white", (255, 255, 255)),
        Background("grey", (240, 240, 240)),
    )
    preferred_background: str = "blue"
    # Geometry on the output canvas, pixels from the top edge / face width.
    crown_y: Band = Band(50, 110)
    eye_y: Band = Band(200, 300)
    face_width: Band = Band(180, 300)
    centre_tolerance_px: float = 24.0        # TUCAI: |face centre − canvas centre|
    band_margin_px: float = 4.0              # the crop keeps crown and eyes this far inside their bands where it can
    #   (the measured crown sits 1–4 px below the top of real hair on the 480×640 canvas)
    # Pose (degrees), ISO19794.
    # ISO19794 asks ±5° yaw/pitch. The estimate is repeatable (bench/photo_eval.py --repeatability on
    # ../shared/faces: a mirrored photo reads the opposite yaw within SD 1.3° of the pair sum, a 0.6×
    # copy the same angles within SD 0.6°), and a full-mesh rigid fit / solvePnP on the same landmarks
    # reads the same yaw within about 1°: the spread of faces labelled frontal (yaw SD 7°, pitch SD 9°)
    # is the people's real pose, not measurement noise. The working limits are what the by-eye labels
    # (and a photographer) accept as "looking straight" (TUCAI, about 10–15°); a stricter unit can use a
    # profile with the ISO values. Roll (the line through the irises) keeps the ISO value.
    max_yaw: float = 12.0
    max_pitch: float = 14.0
    max_roll: float = 8.0
    rotated_roll_deg: float = 45.0           # a roll beyond this is a photo turned on its side or upside down, not a tilted head
    upright_score_min: float = 0.85          # a face detected below this score is also tried upside down ...
    upright_score_margin: float = 0.1        # ... and the photo is upside down where that scores this much higher
    landmarks_outside_max: float = 0.2       # pose is not measured on a face more than this share outside the picture
    monochrome_chroma_max: float = 5.0       # 99th percentile of C*ab of the cropped photo below which it is black-and-white
    #   (the spec: 24-bit colour). Dev set: the one greyscale scan 0.1, every colour photo ≥ 12.5
    # Heuristic thresholds (TUCAI), tuned on ../shared/faces.
    eye_open_min: float = 0.15               # eye aspect ratio (lid gap / eye width) of the less open eye;
                                             # dev set: closed ≤ 0.05, open ≥ 0.18 (checks/eyes.py)
    mouth_closed_max: float = 0.08           # inner-lip gap / mouth width
    feature_contrast_min: float = 12.0       # L* spread (95th − 5th percentile) inside an eye opening or the lips
    #   below which that feature is covered (a hand, a mask, a patch): the face mesh places its points there
    #   anyway. Dev set: every labelled open eye ≥ 24, lips ≥ 19; covered eyes and a surgical mask ≤ 8.4
    background_delta_e_max: float = 7.0      # CIEDE2000 distance of the background to the nearest allowed colour
    background_uniform_max: float = 12.0     # half the p5–p95 spread of background L* (shadows, unevenness)
    background_gradient_max: float = 15.0    # max − min median L* over a 3×3 grid of the background (gradient)
    background_chroma_spread_max: float = 5.0  # half the p5–p95 spread of a*, b* (coloured objects = clutter)
    background_visible_min: float = 0.03     # the backdrop is measured where at least this share of the area ...
    background_visible_min_px: int = 100     # ... and this many pixels (of the 240 px wide copy) show it
    clothing_delta_e_min: float = 15.0       # CIEDE2000 clothing vs background at least (light grey tee on blue: 19.8)
    forbidden_clothing_hues: tuple[str, ...] = ("blue", "yellow", "green", "purple")   # NOTICE2024 (blue bg)
    shoulder_tilt_max_deg: float = 8.0       # mask-based, hair on a shoulder and turned bodies add a few degrees
    shoulder_edge_margin: float = 0.1        # a shoulder outline nearer the bottom edge than this × face width is the frame
    exposure_face_l: Band = Band(35.0, 85.0)  # median L* of the face skin
    clip_level_high: int = 250               # an 8-bit channel at or above this is blown out ...
    clip_level_low: int = 5                  # ... at or below this crushed to black
    clipped_max_fraction: float = 0.02       # share of face pixels blown out or crushed
    contrast_min: float = 40.0               # L* p98 − p2 over the cropped photo (washed-out, hazy pictures)
    lighting_balance_max: float = 0.3        # |L*(right cheek) − L*(left cheek)| / median L*(face), each cheek
    # by its lighting_cheek_percentile; 0.3 ≈ a 2:1 (one stop) left/right light ratio at face L* 55
    lighting_cheek_percentile: float = 70.0  # a cheek's light: its brighter part (hair, a frame or a fold darken part of it)
    sharpness_min: float = 44.0              # variance of Laplacian on the face, face ≤ 240 px wide (never upscaled)
    sharpness_edge_contrast_min: float = 20.0  # grey levels over a 7×7 window: weaker "edges" are skin texture
    sharpness_edge_blur_max_px: float = 1.65  # blur σ of the face's strongest edges, same scale (checks/sharpness);
    #   dev set: in-focus ≤ 1.54 px, soft scans/video frames 1.60–1.90 px (the 1.60 one also fails the Laplacian;
    #   grain fools the Laplacian, not this)
    glare_max_fraction: float = 0.015        # share of near-white specular pixels in the eye regions
    glare_min_l: float = 90.0                # a specular pixel: L* at least this and at least ...
    glare_above_skin_l: float = 20.0         # ... this much above the cheeks' L*, ...
    glare_chroma_max: float = 12.0           # ... nearly colourless (C*ab below this), ...
    glare_iris_margin: float = 1.4           # ... and outside the iris circle grown by this factor (catch-lights are wanted)
    tint_max: float = 0.85                   # under-eye darkening vs. cheeks + colour shift / tint_shift_scale (checks/glasses)
    tint_shift_scale: float = 40.0           # C*ab of colour shift that counts as much as a full darkening
    tint_hue_chroma_min: float = 15.0        # below this C*ab the hue of skin is noise (grey light, beard, B/W)
    tint_warm_shift_max_deg: float = 12.0    # hue turn towards yellow, lens area vs lower cheek (amber lenses);
    #   dev set: bare/clear ≤ 9.1°, the light amber pair 16°
    min_source_face_width_px: int = 180      # the original must give at least 1:1 pixels for the face
    max_upscale: float = 1.0                 # TUCAI: output px per original px; >1 would invent detail
    head_cover_max: float = 0.5              # TUCAI heuristic score (checks/headwear.head_cover_score): 0.5 = over
    #   60 % of the head top unlike the person's hair or scalp; dev set: bare heads ≤ 0.48, non-dark hats ≥ 0.58
    # Face detection (TUCAI, tuned on ../shared/faces): a detection counts as a face when its score
    # reaches face_score_min and its box is at least face_rel_size_min × the largest face's width
    # (blurred crowds behind the subject are not "faces" of the photo).
    face_score_min: float = 0.5              # full-range detector on the whole image
    face_short_score_min: float = 0.75       # short-range detector (close-ups); lower scores were false faces
    face_tile_score_min: float = 0.8         # full-range detector on 2×2 tiles (crowds)
    face_rel_size_min: float = 0.3
    # Below their floors, short-range and tile detections still count when the face mesh finds a face in
    # them (crowds of 30 px faces score 0.6–0.8; a false tile detection at 0.7 gets no mesh).
    face_confirm_score_min: float = 0.6
    # A second person cut by the left/right edge (analysis._detect_edges): looked for only when the person
    # mask touches that edge over this share of the main face's rows (a neighbour's head, not shoulders);
    # a mirrored half face is centred on the mirror line within this share of its width (a real half face
    # mirrored is symmetric about the edge; made-up faces elsewhere in the window are not).
    face_edge_rows_min: float = 0.25
    face_edge_centre_max: float = 0.15
    # A person found by the pose model when no face detector found a face counts as a face when its nose,
    # an eye and an ear or mouth corner are visible at this MediaPipe visibility (profiles, bowed heads).
    face_person_visibility_min: float = 0.8
    # Pose offsets (TUCAI): what the landmark estimate reads on a level, frontal face.
    pitch_offset_deg: float = 6.0            # median pitch read on the dev set's frontal faces
    hair_eyebrows_max: float = 0.6           # share of the brow band darker than skin like hair
    hair_darker_l: float = 25.0              # "like hair": at least this much darker (L*) than the cheek on that side
    background_texture_max: float = 0.6      # mean |∇L*| per px of the background at 240 px wide (clutter)
    clothing_chroma_min: float = 20.0        # below this C*ab the clothing counts as neutral (beige 18, khaki 34)
    # A photo passes only if these checks could be measured (None on one of them means retake: we
    # cannot vouch for it). The others may be unmeasurable (no glasses to judge, shoulders out of frame).
    required_measurable: tuple[str, ...] = (
        "face.count", "pose.yaw", "pose.pitch", "pose.roll", "eyes.open", "mouth.closed", "framing",
        "background.color", "background.uniform", "exposure", "sharpness",
    )
    # Hue ranges (degrees of CIE LCh h_ab) named by the notice's forbidden colours (TUCAI; in CIELAB a
    # saturated blue sits near 300°, purple/magenta near 328°, yellow near 93°, green near 140°).
    clothing_hues: tuple[tuple[str, float, float], ...] = (
        ("yellow", 75.0, 105.0), ("green", 105.0, 200.0), ("blue", 200.0, 312.0), ("purple", 312.0, 345.0),
    )

    def background(self, name: str) -> Background:
        for b in self.backgrounds:
            if b.name == name:
                return b
        raise KeyError(name)

    @property
    def aspect(self) -> float:
        return self.width / self.height


# Where each number of the CHSI profile comes from.
SOURCES: dict[str, str] = {
    "width": "CHSI2017", "height": "CHSI2017", "dpi": "CHSI2017", "jpeg_quality_min": "CHSI2017",
    "size_kb": "XINHUA_HN (generally 20–40 KB; other units differ: see the profiles below)",
    "backgrounds": "CHSI2017 (light blue RGB(100,197,255), white, light grey 240)",
    "preferred_background": "XINHUA_HN", "crown_y": "CHSI2017", "eye_y": "CHSI2017", "face_width": "CHSI2017",
    "max_yaw": "ISO19794 (±5°) + TUCAI measurement margin", "max_pitch": "ISO19794 (±5°) + TUCAI measurement margin",
    "max_roll": "ISO19794", "rotated_roll_deg": "TUCAI", "upright_score_min": "TUCAI", "upright_score_margin": "TUCAI", "landmarks_outside_max": "TUCAI", "monochrome_chroma_max": "TUCAI",
    "forbidden_clothing_hues": "NOTICE2024",
    # Everything else on Profile is TUCAI: a heuristic threshold tuned on ../shared/faces with
    # bench/photo_eval.py, not a rule of the spec (the report flags those checks as heuristics).
    "eye_open_min": "TUCAI", "mouth_closed_max": "TUCAI", "feature_contrast_min": "TUCAI", "background_delta_e_max": "TUCAI",
    "background_uniform_max": "TUCAI", "background_gradient_max": "TUCAI", "background_chroma_spread_max": "TUCAI", "background_texture_max": "TUCAI",
    "clothing_delta_e_min": "TUCAI", "clothing_chroma_min": "TUCAI", "clothing_hues": "TUCAI",
    "shoulder_tilt_max_deg": "TUCAI", "shoulder_edge_margin": "TUCAI", "exposure_face_l": "TUCAI", "clip_level_high": "TUCAI", "clip_level_low": "TUCAI", "clipped_max_fraction": "TUCAI",
    "contrast_min": "TUCAI", "lighting_balance_max": "TUCAI", "sharpness_min": "TUCAI",
    "sharpness_edge_blur_max_px": "TUCAI",
    "glare_max_fraction": "TUCAI", "tint_max": "TUCAI", "tint_warm_shift_max_deg": "TUCAI", "min_source_face_width_px": "TUCAI",
    "max_upscale": "TUCAI", "head_cover_max": "TUCAI", "face_score_min": "TUCAI", "face_short_score_min": "TUCAI",
    "face_tile_score_min": "TUCAI", "face_rel_size_min": "TUCAI", "face_confirm_score_min": "TUCAI",
    "face_edge_rows_min": "TUCAI", "face_edge_centre_max": "TUCAI", "face_person_visibility_min": "TUCAI",
    "pitch_offset_deg": "TUCAI", "hair_eyebrows_max": "TUCAI", "hair_darker_l": "TUCAI", "glare_min_l": "TUCAI", "glare_above_skin_l": "TUCAI", "glare_chroma_max": "TUCAI", "glare_iris_margin": "TUCAI", "tint_shift_scale": "TUCAI", "tint_hue_chroma_min": "TUCAI", "lighting_cheek_percentile": "TUCAI", "sharpness_edge_contrast_min": "TUCAI", "background_visible_min": "TUCAI", "background_visible_min_px": "TUCAI", "centre_tolerance_px": "TUCAI", "band_margin_px": "TUCAI",
    "required_measurable": "TUCAI",
}

CHSI = Profile(id="chsi", title_zh="学信网学历证书电子注册图像（480×640）",
               title_en="CHSI diploma registration photo (480×640)")

PROFILES: dict[str, Profile] = {
    "chsi": CHSI,
    # Some capture units ask for larger files; same geometry.
    "chsi-30kb": replace(CHSI, id="chsi-30kb", size_kb=Band(30, 60), title_zh="学信网图像（≥30 KB）",
                         title_en="CHSI photo (≥ 30 KB)"),
    "chsi-100kb": replace(CHSI, id="chsi-100kb", size_kb=Band(100, 200), jpeg_quality_start=97,
                          title_zh="学信网图像（≥100 KB）", title_en="CHSI photo (≥ 100 KB)"),
}


@dataclass(frozen=True)
class DecodeLimits:
    """Safety and speed limits of tucai.photo.decode (TUCAI)."""

    max_bytes: int = 80 * 1024 * 1024          # no camera JPEG is larger; refuse before reading more
    max_pixels: int = 120_000_000              # decompression bombs: 120 MP > any 100 MP medium-format camera
    analysis_long_side: int = 1024             # long side the checks work at (models use ≤ 256 px inputs)


DECODE_LIMITS = DecodeLimits()


def get_profile(profile_id: str) -> Profile:
    try:
        return PROFILES[profile_id]
    except KeyError:
        raise KeyError(f"unknown photo profile {profile_id!r}; known: {', '.join(sorted(PROFILES))}") from None


# --- print sizes (stored in millimetres) -------------------------------------------------------

@dataclass(frozen=True)
class PrintSize:
    id: str
    name_zh: str
    width_mm: float
    height_mm: float

    def px(self, dpi: int = 300) -> tuple[int, int]:
        return mm_to_px(self.width_mm, dpi), mm_to_px(self.height_mm, dpi)


PRINT_SIZES: dict[str, PrintSize] = {
    "1inch": PrintSize("1inch", "1寸", 25, 35),
    "1.5inch": PrintSize("1.5inch", "1.5寸（大一寸）", 33, 48),
    "small2inch": PrintSize("small2inch", "小二寸", 35, 45),
    "2inch": PrintSize("2inch", "二寸", 35, 49),
}

SHEET_SIZES: dict[str, PrintSize] = {
    "6inch": PrintSize("6inch", "6寸（4R）", 102, 152),
    "5inch": PrintSize("5inch", "5寸（3R）", 89, 127),
    "a4": PrintSize("a4", "A4", 210, 297),
}


@dataclass(frozen=True)
class PrintPackage:
    id: str
    items: tuple[tuple[str, int], ...]   # (print size id, count)
    sheet: str = "6inch"


# NOTICE2024: 20 yuan buys 8 × 1寸 and 4 × 1.5寸 colour prints.
PRINT_PACKAGES: dict[str, PrintPackage] = {
    "default": PrintPackage("default", (("1inch", 8), ("1.5inch", 4))),
}


@dataclass(frozen=True)
class SheetStyle:
    dpi: int = 300
    margin_mm: float = 2.0        # TUCAI: printer non-printable edge
    gap_mm: float = 1.5           # TUCAI: room for a cut; at 2 mm the notice's 8+4 package needs two 6寸 sheets
    cut_line_px: int = 1
    cut_line_rgb: tuple[int, int, int] = (160, 160, 160)
    tile_jpeg_quality: int = 95   # TUCAI: the photos embedded in a sheet PDF (print quality, not the 40 KB file)


DEFAULT_SHEET_STYLE = SheetStyle()
