"""How fast is check + normalise on a 24-megapixel camera JPEG?

    .venv/bin/python bench/photo_speed.py [FACES_DIR] [--runs 30] [--source deepface_img30.jpg] [--procs N]
                                          [--cv-threads N]

Builds a compliant portrait from a real frontal photo (person on the reference blue, CHSI geometry),
upscales it to 4000×6000 with sensor-like noise and saves it as a quality-92 JPEG (what a camera
delivers). Then, in one process with warm models, prints the median time of
``pipeline.process(..., normalize=True)`` next to the floor: decoding the same JPEG at reduced DCT
scale plus encoding one 480×640 JPEG, the time of each check (with the shared Context measurements it
is the first to need, which are also timed alone), and finally images/s with one process per core
(multiprocessing; ``--cv-threads`` sets OpenCV's threads in each worker). On a shared machine compare
figures from one run (pipeline and floors are interleaved) and pin it: ``taskset -c 0 ... --procs 1``.
Without FACES_DIR (../shared/faces) there is no real face to build from, and the script says so.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))


def _faces_dir() -> Path:
    return Path(os.environ.get("TUCAI_FACES_DIR", REPO.parent / "shared" / "faces"))


def make_camera_jpeg(faces_dir: Path, source: str) -> bytes:
    from tucai.photo import decode, synth

    src = decode.load_full(faces_dir / "dev" / source).rgb
    rgb, _ = synth.compliant_portrait(src, size=(1200, 1800), margin=0.2)
    return synth.camera_jpeg(rgb, (4000, 6000), quality=92, noise=2.0)


def floor_once(data: bytes, denominator: int = 8, cpu: list | None = None) -> float:
    """Reduced-DCT decode (1/``denominator``) + one 480×640 JPEG encode: the least any pipeline must do.
    Returns wall ms; appends the process's CPU ms to ``cpu`` when given."""
    from PIL import Image

    c = time.process_time()
    t = time.perf_counter()
    im = Image.open(io.BytesIO(data))
    im.draft("RGB", (im.width // denominator, im.height // denominator))
    im = im.convert("RGB").resize((480, 640), Image.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    wall = (time.perf_counter() - t) * 1000
    if cpu is not None:
        cpu.append((time.process_time() - c) * 1000)
    return wall


def check_costs(data: bytes, runs: int) -> dict[str, list[float]]:
    """Per-check time (ms) on one analysed photo: each check in pipeline order on a fresh Context, so a
    check is charged with the shared lazy measurements (ROI Lab, window, masks ...) it is the first to
    need, exactly as in ``pipeline.process``."""
    from tucai.photo import analysis, checks
    from tucai.photo.decode import load
    from tucai.photo.spec import get_profile

    prof = get_profile("chsi")
    a = analysis.analyse(load(data), prof)
    costs: dict[str, list[float]] = {}
    for _ in range(runs):
        ctx = checks.Context(a=a, profile=prof)
        for check in checks.CHECKS:
            t = time.perf_counter()
            r = check(ctx)
            costs.setdefault(r.id, []).append((time.perf_counter() - t) * 1000)
    return costs


# The shared lazy measurements of checks._base.Context, in the order the checks first need them.
SHARED = ("roi", "roi_rgb", "roi_lab", "face_mask", "skin_lab", "window", "window_small", "window_lab", "grey")


def shared_costs(data: bytes, runs: int) -> dict[str, list[float]]:
    """Time (ms) of each shared Context measurement alone (its own work: what it depends on is computed
    first, untimed), so a check's figure above can be split into its own work and the shared part."""
    from tucai.photo import analysis, checks
    from tucai.photo.decode import load
    from tucai.photo.spec import get_profile

    prof = get_profile("chsi")
    a = analysis.analyse(load(data), prof)
    costs: dict[str, list[float]] = {}
    for _ in range(runs):
        ctx = checks.Context(a=a, profile=prof)
        for name in SHARED:
            t = time.perf_counter()
            getattr(ctx, name)
            costs.setdefault(name, []).append((time.perf_counter() - t) * 1000)
    return costs


def _worker(args) -> int:
    data, n, cv_threads = args
    import cv2

    if cv_threads:
        # One process per core: OpenCV's own thread pool would only make the processes compete.
        cv2.setNumThreads(cv_threads)
    from tucai.photo import analysis
    from tucai.photo.pipeline import process

    analysis.warm_up()
    process(data)
    done = 0
    for _ in range(n):
        r = process(data)
        done += r.normalized_jpeg is not None
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("faces_dir", nargs="?", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--source", default="deepface_img30.jpg", help="frontal portrait in FACES_DIR/dev")
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--cv-threads", type=int, default=0,
                    help="cv2.setNumThreads in each worker process (0: leave OpenCV's default)")
    args = ap.parse_args(argv)
    d = args.faces_dir or _faces_dir()
    if not (d / "dev" / args.source).exists():
        print(f"need a real frontal portrait: {d / 'dev' / args.source} not found (give FACES_DIR)", file=sys.stderr)
        return 2
    from tucai.photo import analysis
    from tucai.photo.pipeline import process

    data = make_camera_jpeg(d, args.source)
    print(f"camera JPEG: 4000×6000 (24 MP), {len(data) / 1e6:.1f} MB, quality 92; source {args.source}")
    analysis.warm_up()
    r = process(data)
    print(f"verdict {r.verdict}; failed: {[c['id'] for c in r.report['checks'] if c['ok'] is False] or 'none'}; "
          f"normalised: {None if r.normalized_jpeg is None else len(r.normalized_jpeg)} bytes")
    from tucai.photo.normalize import decode_denominator

    # The output needs the face at ≥ 300 px without upscaling: the DCT scale the normaliser must decode at.
    den = decode_denominator(r.geometry.face_width) if r.geometry is not None else 8
    # Interleave pipeline and floors so both see the same machine load (other processes share the cores).
    times, floors8, floors_den, stages = [], [], [], {}
    cpu_times, cpu8, cpu_den = [], [], []
    for _ in range(args.runs):
        c = time.process_time()
        t = time.perf_counter()
        r = process(data)
        times.append((time.perf_counter() - t) * 1000)
        cpu_times.append((time.process_time() - c) * 1000)
        for k, v in r.report["timings_ms"].items():
            stages.setdefault(k, []).append(v)
        floors8.append(floor_once(data, 8, cpu8))
        floors_den.append(floor_once(data, den, cpu_den))
    med, fl8, fld = statistics.median(times), statistics.median(floors8), statistics.median(floors_den)
    ratio8 = statistics.median(t / f for t, f in zip(times, floors8))
    ratiod = statistics.median(t / f for t, f in zip(times, floors_den))
    print(f"check + normalise, one process, warm models: median {med:.1f} ms "
          f"(p10 {sorted(times)[len(times) // 10]:.1f}, p90 {sorted(times)[len(times) * 9 // 10]:.1f}) over {args.runs} runs")
    print("  stages (median ms): " + ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in stages.items()))
    print(f"floor A, 1/8 DCT decode + 480×640 encode: median {fl8:.1f} ms; pipeline/floor {med / fl8:.2f}× "
          f"(median of per-run ratios {ratio8:.2f}×)")
    print(f"floor B, 1/{den} DCT decode (the scale the 480×640 output needs for this face) + encode: median "
          f"{fld:.1f} ms; pipeline/floor {med / fld:.2f}× (median of per-run ratios {ratiod:.2f}×)")
    # CPU time of this process (all its threads): wall time on a shared core also counts the waits for
    # it; CPU time does not (a busy sibling hyperthread or cache still slows both).
    cm, c8, cd = (statistics.median(v) for v in (cpu_times, cpu8, cpu_den))
    # Per-run ratios pair each pipeline run with the floors run right after it (the same phase of the
    # other load on the machine): steadier than the ratio of medians when that load changes.
    cr8 = statistics.median(t / f for t, f in zip(cpu_times, cpu8))
    crd = statistics.median(t / f for t, f in zip(cpu_times, cpu_den))
    print(f"CPU time (process_time, no waits for the core): check + normalise {cm:.1f} ms; floor A {c8:.1f} ms "
          f"→ {cm / c8:.2f}× (per-run {cr8:.2f}×); floor B {cd:.1f} ms → {cm / cd:.2f}× (per-run {crd:.2f}×)")
    costs = check_costs(data, args.runs)
    total = sum(statistics.median(v) for v in costs.values())
    print(f"  checks (median ms, each with the shared measurements it is first to need; sum {total:.1f}): "
          + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in sorted(costs.items(), key=lambda kv: -statistics.median(kv[1]))))
    shared = shared_costs(data, args.runs)
    print("  shared Context measurements inside those (median ms): "
          + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in shared.items()))
    n_each = max(4, args.runs // 2)
    t = time.perf_counter()
    with mp.get_context("spawn").Pool(args.procs) as pool:
        pool.map(_worker, [(data, 1, args.cv_threads)] * args.procs)     # start and warm every worker
        t = time.perf_counter()
        done = sum(pool.map(_worker, [(data, n_each, args.cv_threads)] * args.procs))
    dt = time.perf_counter() - t
    # Each worker call also warms up and runs one extra image: count those too.
    total = args.procs * (n_each + 1)
    print(f"{args.procs} processes (one per core, OpenCV threads {args.cv_threads or 'default'}): {total / dt:.1f} images/s ({done} normalised)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
