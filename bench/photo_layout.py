"""Time normalisation and print-sheet layout (prints figures; no assertions).

    .venv/bin/python bench/photo_layout.py [--runs 30]

Builds a synthetic 24-megapixel (6000×4000) camera JPEG of a head-and-shoulders portrait with sensor
noise, then times, each as the median of ``--runs`` runs in this one process:

* decoding it at the reduced DCT scale that :func:`decode_denominator` picks for its face width,
* :func:`plan_crop`, :func:`render_crop` (crop + INTER_AREA resize), :func:`encode_jpeg` (quality
  search into the CHSI size window), and :func:`normalize` as a whole,
* :func:`plan_package` for the default package on 6寸 / 5寸 / A4, and rendering the sheets.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from tucai.photo.geometry import FaceGeometry  # noqa: E402
from tucai.photo.normalize import (  # noqa: E402
    decode_denominator, encode_jpeg, normalize, plan_crop, render_crop,
)
from tucai.photo.sheets import plan_package, render_jpeg, render_pdf  # noqa: E402
from tucai.photo.spec import CHSI  # noqa: E402


def camera_jpeg(w=6000, h=4000, seed=7) -> tuple[bytes, FaceGeometry]:
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.float32)
    img[:] = (100, 197, 255)
    cx, eye_y, fw = w * 0.5, h * 0.40, h * 0.26
    crown, chin = eye_y - 0.75 * fw, eye_y + 0.75 * fw
    cv2.ellipse(img, (round(cx), round((crown + chin) / 2)), (round(fw * 0.55), round((chin - crown) / 2)), 0, 0, 360,
                (40, 30, 25), -1)
    cv2.ellipse(img, (round(cx), round(eye_y + 0.15 * fw)), (round(fw / 2), round(0.6 * fw)), 0, 0, 360,
                (225, 180, 150), -1)
    cv2.rectangle(img, (round(cx - 1.2 * fw), round(chin + 0.15 * fw)), (round(cx + 1.2 * fw), h), (45, 45, 50), -1)
    noise = rng.standard_normal((h, w), dtype=np.float32)
    img += (cv2.GaussianBlur(noise, (0, 0), 1.5) * 10)[..., None]
    img += rng.standard_normal((h, w, 3), dtype=np.float32) * 3
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=92)
    geo = FaceGeometry(crown_y=crown, eye_y=eye_y, eye_mid_x=cx, face_left=cx - fw / 2, face_right=cx + fw / 2,
                       chin_y=chin)
    return buf.getvalue(), geo


def decode_reduced(data: bytes, denom: int) -> np.ndarray:
    im = Image.open(io.BytesIO(data))
    im.draft("RGB", (im.width // denom, im.height // denom))
    return np.asarray(im.convert("RGB"))


def median_ms(fn, runs: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)   # one core, as on a busy capture station

    data, geo = camera_jpeg()
    denom = decode_denominator(geo.face_width, CHSI)
    print(f"source: 6000×4000 JPEG, {len(data) / 1e6:.1f} MB, face {geo.face_width:.0f} px → decode at 1/{denom}")
    t_dec, img = median_ms(lambda: decode_reduced(data, denom), args.runs)
    g = geo.scaled(1 / denom)
    print(f"decode at 1/{denom} ({img.shape[1]}×{img.shape[0]}): {t_dec:7.2f} ms")
    t_plan, plan = median_ms(lambda: plan_crop(g, (img.shape[1], img.shape[0]), CHSI), args.runs)
    t_crop, canvas = median_ms(lambda: render_crop(img, plan), args.runs)
    t_enc, enc = median_ms(lambda: encode_jpeg(canvas, CHSI), args.runs)
    t_norm, n = median_ms(lambda: normalize(img, g, CHSI), args.runs)
    print(f"plan_crop:              {t_plan:7.2f} ms  (crop {plan.crop}, scale {plan.scale:.4f})")
    print(f"render_crop:            {t_crop:7.2f} ms")
    print(f"encode_jpeg:            {t_enc:7.2f} ms  (quality {enc.quality}, {enc.size_bytes} bytes, "
          f"{enc.encodes} encodes, in window: {enc.size_ok})")
    print(f"normalize (all three):  {t_norm:7.2f} ms")
    print(f"decode + normalize:     {t_dec + t_norm:7.2f} ms")
    print(f"canvas geometry: crown {n.geometry.crown_y:.1f}, eyes {n.geometry.eye_y:.1f}, "
          f"face width {n.geometry.face_width:.1f}, centre {n.geometry.centre_x:.1f}")

    runs = max(3, args.runs // 5)
    for sheet in ("6inch", "5inch", "a4"):
        t_lay, layouts = median_ms(lambda: plan_package("default", sheet), runs)
        t_jpg, _ = median_ms(lambda: [render_jpeg(n.jpeg, lay) for lay in layouts], runs)
        t_pdf, pdf = median_ms(lambda: render_pdf(n.jpeg, layouts), runs)
        print(f"default package on {sheet:5s}: {len(layouts)} sheet(s); plan {t_lay:7.2f} ms, JPEG sheets "
              f"{t_jpg:7.1f} ms, PDF {t_pdf:7.1f} ms ({len(pdf) // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
