"""``tucai progress --campaign CODE [--json] [--csv SHEET|--xlsx FILE]``: how far the shoot is, and who is missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import CommandError

from tucai.campaigns.selectors import campaign_by_code
from tucai.core.errors import TucaiError
from tucai.core.files import write_atomic
from tucai.core.management.base import JsonCommand
from tucai.stations.progress import (
    SHEETS, STATUS_ZH, progress_as_json, progress_export_csv, progress_export_xlsx, progress_summary,
)


class Command(JsonCommand):
    help = "采集进度：按班级、拍摄室统计应拍/已签到/已拍摄/已通过，并列出补拍名单"

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, help="活动代码，如 demo-2024")
        parser.add_argument("--json", action="store_true", help="输出 JSON")
        parser.add_argument("--csv", choices=SHEETS, help="以 CSV 输出一张表到标准输出")
        parser.add_argument("--xlsx", metavar="FILE", help="导出 Excel 文件（三张表）")

    def handle(self, *args, campaign, **options):
        try:
            camp = campaign_by_code(campaign)
        except TucaiError as e:
            raise CommandError(f"{e.code}: {e.message}") from e
        if options["json"]:
            self.stdout.write(json.dumps(progress_as_json(campaign=camp), ensure_ascii=False, indent=2))
            return
        if options["csv"]:
            sys.stdout.buffer.write(progress_export_csv(campaign=camp, sheet=options["csv"]))
            return
        if options["xlsx"]:
            out = Path(options["xlsx"])
            try:
                write_atomic(out, progress_export_xlsx(campaign=camp))  # no half-written spreadsheet
            except TucaiError as e:
                raise CommandError(f"{e.code}: {e.message}") from e
            self.stdout.write(f"已导出 {out}")
            return
        data = progress_summary(campaign=camp)
        line = "{:<20} {:>6} {:>6} {:>6} {:>6}"
        for title, rows in (("班级", data["classes"]), ("拍摄室", data["rooms"])):
            self.stdout.write(line.format(title, "应拍", "已签到", "已拍摄", "已通过"))
            for r in [*rows, data["total"]]:
                self.stdout.write(line.format(r.label, r.expected, r.checked_in, r.photographed, r.accepted))
            self.stdout.write("")
        self.stdout.write(f"补拍名单（{len(data['absentees'])} 人）")
        for a in data["absentees"]:
            self.stdout.write(f"{a['student_no']}\t{a['name']}\t{a['class']}\t{STATUS_ZH[a['status']]}")
