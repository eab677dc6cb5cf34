"""``tucai roster import FILE --campaign CODE [--dry-run] [--full]`` and
``tucai roster export --campaign CODE OUT.xlsx|OUT.csv``.

Import prints what changed (or would change), or the row errors and exits with status 1; nothing is
written unless every row is valid."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tucai.campaigns.selectors import campaign_by_code
from tucai.campaigns.services.exports import roster_export
from tucai.campaigns.services.roster import roster_import
from tucai.core.errors import TucaiError
from tucai.core.files import write_atomic

MAX_ERRORS_SHOWN = 200


class Command(BaseCommand):
    help = "学生名单：import 导入 .xlsx/.csv（先 --dry-run 检查）；export 导出 .xlsx/.csv"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="导入名单（按学号更新，不删除学生）")
        imp.add_argument("file", help=".xlsx 或 .csv 文件（UTF-8/GBK）")
        imp.add_argument("--campaign", required=True, help="活动代码，如 demo-2024")
        imp.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        imp.add_argument("--full", action="store_true", help="完整名单：名单外的学生标记为“已移出”")
        exp = sub.add_parser("export", help="导出学生名单")
        exp.add_argument("--campaign", required=True, help="活动代码，如 demo-2024")
        exp.add_argument("--masked", action="store_true", help="遮蔽证件号码")
        exp.add_argument("out", help="输出文件 .xlsx 或 .csv")

    def handle(self, *args, action, campaign, **options):
        try:
            camp = campaign_by_code(campaign)
            if action == "import":
                return self._import(camp, Path(options["file"]), dry_run=options["dry_run"], full=options["full"])
            return self._export(camp, Path(options["out"]), masked=options["masked"])
        except TucaiError as e:
            raise CommandError(f"{e.code}: {e.message}", returncode=1) from e

    def _import(self, camp, path: Path, *, dry_run: bool, full: bool):
        if path.is_dir():
            raise CommandError(f"roster.not_a_file: 这是一个文件夹而不是名单文件 {path}", returncode=1)
        if not path.is_file():
            raise CommandError(f"roster.file_not_found: 找不到文件 {path}", returncode=1)
        result = roster_import(campaign=camp, file=path, filename=path.name, actor_label="cli", dry_run=dry_run,
                               full=full)
        if result.errors:
            self.stdout.write(f"{path.name}: {result.rows} 行，{len(result.errors)} 处错误，未导入任何数据")
            for e in result.errors[:MAX_ERRORS_SHOWN]:
                value = f"  [{e.value}]" if e.value else ""
                self.stdout.write(f"  第 {e.row} 行  {e.column}  {e.code}  {e.message_zh}{value}")
            if len(result.errors) > MAX_ERRORS_SHOWN:
                self.stdout.write(f"  …… 另有 {len(result.errors) - MAX_ERRORS_SHOWN} 处错误")
            raise CommandError(f"roster.invalid: {len(result.errors)} 处错误", returncode=1)
        head = "检查通过（未写入）" if dry_run else "已导入"
        self.stdout.write(self.style.SUCCESS(
            f"{head} {camp.code}: {result.rows} 行；新增 {result.created}，更新 {result.updated}，"
            f"未变 {result.unchanged}，移出 {result.deactivated}"))
        self.stdout.write(f"created={result.created} updated={result.updated} unchanged={result.unchanged} "
                          f"deactivated={result.deactivated} reactivated={result.reactivated}")
        if result.departments_created:
            self.stdout.write("新学院: " + "、".join(result.departments_created))
        if result.classes_created:
            shown = result.classes_created[:50]
            more = f" 等 {len(result.classes_created)} 个" if len(result.classes_created) > 50 else ""
            self.stdout.write("新班级: " + "、".join(shown) + more)
        if result.ignored_columns:
            self.stdout.write("忽略的列: " + "、".join(result.ignored_columns))

    def _export(self, camp, out: Path, *, masked: bool):
        fmt = out.suffix.lower().lstrip(".")
        data = roster_export(campaign=camp, fmt=fmt, masked=masked, actor_label="cli")
        write_atomic(out, data)  # never leave half a file behind
        self.stdout.write(self.style.SUCCESS(f"已导出 {camp.code} → {out}"))
