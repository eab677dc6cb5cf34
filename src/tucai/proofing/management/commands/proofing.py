"""``tucai proofing``: proofreading (校对) and corrections (勘误) from the command line.

    tucai proofing open --campaign demo-2024 --as office        # publish the photos (window: proofing_window_days)
    tucai proofing status --campaign demo-2024 [--json]
    tucai proofing pending --campaign demo-2024 OUT.xlsx|OUT.csv  # who has not answered: the reminder list
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils import timezone

from tucai.campaigns.cli import campaign_arg
from tucai.core.errors import TucaiError
from tucai.core.files import write_atomic
from tucai.core.management.base import JsonCommand
from tucai.core.spreadsheets import csv_bytes, xlsx_bytes
from tucai.proofing import selectors, services


class Command(JsonCommand):
    help = "校对与勘误：发布、进度、未回复名单"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("open", help="发布照片供校对（开始勘误期）")
        p.add_argument("--campaign", required=True)
        p.add_argument("--as", dest="username", required=True, help="以哪个教务处账号发布（记入审计日志）")
        p = sub.add_parser("status", help="校对进度")
        p.add_argument("--campaign", required=True)
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("pending", help="导出未回复的学生（提醒名单）")
        p.add_argument("--campaign", required=True)
        p.add_argument("out", help="输出文件 .xlsx 或 .csv")

    def handle(self, *args, action, campaign, **options):
        camp = campaign_arg(campaign)
        try:
            if action == "open":
                user = get_user_model().objects.filter(username=options["username"], is_active=True).first()
                if user is None:
                    raise CommandError(f"没有账号 {options['username']} / no such user")
                window = services.proofing_open(campaign=camp, actor=user)
                self.stdout.write(self.style.SUCCESS(
                    f"已发布校对，勘误截止 {timezone.localtime(window.closes_at):%Y-%m-%d %H:%M}"))
            elif action == "status":
                window = selectors.proofing_window(campaign=camp)
                counts = selectors.proofing_overview(campaign=camp)
                counts.pop("pending")  # the list itself is `tucai proofing pending`
                data = {"campaign": camp.code, "window_open": selectors.window_is_open(window),
                        "opens_at": window.opens_at.isoformat() if window else None,
                        "closes_at": window.closes_at.isoformat() if window else None, **counts}
                if options["json"]:
                    self.stdout.write(json.dumps(data, ensure_ascii=False))
                else:
                    self.stdout.write(f"已采用照片 {data['photographed']}；已确认 {data['confirmed']}；待处理勘误 {data['open']}；"
                                      f"未回复 {data['no_reply']}")
            else:
                out = Path(options["out"])
                rows = selectors.proof_pending_rows(campaign=camp)
                if out.suffix.lower() == ".xlsx":
                    data = xlsx_bytes([("未回复", selectors.PENDING_COLUMNS, rows)])
                elif out.suffix.lower() == ".csv":
                    data = csv_bytes(selectors.PENDING_COLUMNS, rows)
                else:
                    raise CommandError("输出文件须以 .xlsx 或 .csv 结尾 / the output must end in .xlsx or .csv")
                write_atomic(out, data)
                self.stdout.write(f"未回复 {len(rows)} 人 → {out}")
        except TucaiError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
