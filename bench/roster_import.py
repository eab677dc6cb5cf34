"""How fast is the roster import next to openpyxl merely reading the same file?

Generates a clean N-row .xlsx (realistic names, valid resident IDs, 5 departments, classes of ~45),
times openpyxl alone reading it (read-only, iterating values), then ``roster_import`` as a dry run
and as a commit into a fresh SQLite database in a temporary data directory (and a second commit of
the same file: the upsert that finds nothing to change, and once more after every student's name
and phone were changed: 50,000 updates with audit entries). Prints rows/s and the ratio to the read
time, as wall time and as this process's CPU time (steadier where other work shares the machine);
the goal is at most 2× for the commit.

    .venv/bin/python bench/roster_import.py [--rows 50000] [--rounds 3] [--keep DIR]
    .venv/bin/python bench/roster_import.py --postgres postgres://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩然子轩欣怡梓涵一诺雨桐思远佳琪博文俊杰嘉怡晨曦"
DEPARTMENTS = ["信息工程学院", "管理艺术学院", "智能制造学院", "新能源学院", "建筑工程学院"]
AREAS = ["430521", "430102", "430304", "431102", "430611", "440524", "110105", "420106", "360111", "450103"]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(area: str, birth: dt.date, seq: int) -> str:
    body = f"{area}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]


def generate(path: Path, rows: int, seed: int = 2024) -> None:
    import openpyxl

    rnd = random.Random(seed)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("名单")
    ws.append(["学号", "姓名", "性别", "证件类型", "身份证号", "学院", "班级", "手机"])
    per_class = 45
    used: set[str] = set()
    for i in range(rows):
        dep = DEPARTMENTS[(i // (per_class * 40)) % len(DEPARTMENTS)]
        cls = f"{dep[:2]}{2021}{i // per_class + 1:04d}班"
        while True:  # IDs are unique in a real roster
            seq = rnd.randrange(0, 1000)
            birth = dt.date(2001, 1, 1) + dt.timedelta(days=rnd.randrange(0, 1100))
            number = resident_id(rnd.choice(AREAS), birth, seq)
            if number not in used:
                used.add(number)
                break
        name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2, 2))))
        ws.append([f"2021{i:06d}", name, "男" if seq % 2 else "女", "居民身份证", number, dep, cls,
                   f"1{rnd.choice('3578')}{rnd.randrange(10**8, 10**9)}"])
    wb.save(path)


def read_openpyxl(path: Path) -> int:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    n = 0
    for _row in wb.worksheets[0].iter_rows(values_only=True):
        n += 1
    wb.close()
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep", help="use (and keep) this data directory instead of a temporary one")
    ap.add_argument("--postgres", metavar="URL",
                    help="also possible: PostgreSQL server URL (postgres://user@host:5432); a scratch database "
                         "tucai_bench_<pid> is created there and dropped afterwards")
    args = ap.parse_args(argv)

    data_dir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="tucai-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TUCAI_DATA_DIR"] = str(data_dir)
    os.environ.pop("TUCAI_DATABASE_URL", None)  # SQLite in the data dir, as the embedded default
    scratch = None
    if args.postgres:
        import psycopg

        scratch = f"tucai_bench_{os.getpid()}"
        with psycopg.connect(f"{args.postgres.rstrip('/')}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        os.environ["TUCAI_DATABASE_URL"] = f"{args.postgres.rstrip('/')}/{scratch}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tucai.settings")
    try:
        xlsx = data_dir / f"roster-{args.rows}.xlsx"
        t = time.perf_counter()
        generate(xlsx, args.rows)
        print(f"generated {args.rows} rows → {xlsx.name} ({xlsx.stat().st_size / 1e6:.1f} MB) "
              f"in {time.perf_counter() - t:.2f} s")

        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from tucai.campaigns.models import Campaign, Institution, Student
        from tucai.campaigns.services.roster import roster_import

        inst = Institution.objects.create(code="bench", name="基准测试学院")

        def import_once(campaign, **kw):
            t, c = time.perf_counter(), time.process_time()
            result = roster_import(campaign=campaign, file=xlsx, filename=xlsx.name, actor_label="bench", **kw)
            s, cpu = time.perf_counter() - t, time.process_time() - c
            assert result.ok, result.errors[:5]
            return (s, cpu), result

        # Rounds interleave the read and the imports so that load on the machine hits both alike.
        # Wall time and this process's CPU time: on a shared, busy machine the CPU time is the steadier one.
        times: dict[str, list[tuple[float, float]]] = {"read": [], "dry": [], "new": [], "again": [], "changed": []}
        for round_no in range(args.rounds):
            t, c = time.perf_counter(), time.process_time()
            n = read_openpyxl(xlsx)
            times["read"].append((time.perf_counter() - t, time.process_time() - c))
            campaign = Campaign.objects.create(
                institution=inst, code=f"bench-{round_no}", name=f"基准{round_no}", graduation_year=2024,
                capture_start=dt.date(2024, 3, 1), capture_end=dt.date(2024, 3, 1))
            s, r = import_once(campaign, dry_run=True)
            assert r.created == args.rows
            times["dry"].append(s)
            s, r = import_once(campaign, dry_run=False)
            assert r.committed and r.created == args.rows
            assert Student.objects.filter(campaign=campaign).count() == args.rows
            times["new"].append(s)
            s, r = import_once(campaign, dry_run=False)
            assert r.committed and r.unchanged == args.rows
            times["again"].append(s)
            Student.objects.filter(campaign=campaign).update(name="改前", phone="")
            s, r = import_once(campaign, dry_run=False)
            assert r.committed and r.updated == args.rows
            times["changed"].append(s)

        print(f"{args.rounds} rounds; wall seconds of each: "
              + "; ".join(f"{k} " + " ".join(f"{w:.2f}" for w, _ in vs) for k, vs in times.items()))
        read_w = min(w for w, _ in times["read"])
        read_c = min(c for _, c in times["read"])
        print(f"{'':34s}{'best wall':>10s} {'rows/s':>9s} {'ratio':>6s}   {'best CPU':>9s} {'ratio':>6s}")
        print(f"{'openpyxl read-only, values only':34s}{read_w:9.2f}s {args.rows / read_w:9,.0f} {1:6.2f}×  "
              f"{read_c:8.2f}s {1:6.2f}×   ({n} rows incl. header)")
        for key, label in (("dry", "roster_import dry run"), ("new", "roster_import commit (all new)"),
                           ("again", "roster_import commit (unchanged)"),
                           ("changed", "roster_import commit (all changed)")):
            w = min(w for w, _ in times[key])
            c = min(c for _, c in times[key])
            print(f"{label:34s}{w:9.2f}s {args.rows / w:9,.0f} {w / read_w:6.2f}×  {c:8.2f}s {c / read_c:6.2f}×")
        from tucai.audit.models import AuditEntry

        from django.db import connection

        db = (f"SQLite {connection.Database.sqlite_version}" if connection.vendor == "sqlite"
              else f"PostgreSQL {connection.pg_version} (CPU column: this process only, not the server)")
        print(f"students {Student.objects.count()}, audit entries {AuditEntry.objects.count()}; "
              f"Python {sys.version.split()[0]}, {db}")
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        if scratch:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{args.postgres.rstrip('/')}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
