"""``tucai handoff``: the package for the upload to CHSI (学信网).

    tucai handoff check --campaign demo-2024 [--json]
    tucai handoff build --campaign demo-2024 OUT.zip [--naming "{doc_number}"] [--require-all]

``check`` lists who would be in the package and who not (no photo yet: the make-up list; a photo
that fails the file check) without writing anything. ``build`` writes the zip (photos named by the
pattern, ``index.csv``, ``missing.csv``) and records the build in the audit log; with
``--require-all`` it writes nothing while anyone is missing. Exit status 1 when nothing was written."""

import json

from django.core.management.base import CommandError
from django.utils import timezone

from tucai.campaigns.cli import campaign_arg
from tucai.core.errors import TucaiError
from tucai.core.management.base import JsonCommand
from tucai.handoff.services import DEFAULT_NAMING, REASONS, handoff_build, handoff_collect


class Command(JsonCommand):
    help = "学信网交付包：检查、生成"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("check", help="列出可交付、缺照片、照片不合格的学生（不写文件）")
        p.add_argument("--campaign", required=True, help="活动代码，如 demo-2024")
        p.add_argument("--naming", default=DEFAULT_NAMING, help="文件名模板，默认 {doc_number}")
        p.add_argument("--json", action="store_true", help="输出 JSON")
        p = sub.add_parser("build", help="生成交付包 zip（照片 + index.csv + missing.csv）")
        p.add_argument("--campaign", required=True)
        p.add_argument("out", help="输出文件 .zip")
        p.add_argument("--naming", default=DEFAULT_NAMING,
                       help="文件名模板：{doc_number}（默认）、{student_no}、{name} 的组合")
        p.add_argument("--require-all", action="store_true", help="有人缺照片或照片不合格时不生成")
        p.add_argument("--json", action="store_true", help="输出 JSON")

    def handle(self, *args, action, campaign, naming, json: bool, **options):
        camp = campaign_arg(campaign)
        try:
            if action == "check":
                result = handoff_collect(campaign=camp, naming=naming)
            else:
                result = handoff_build(campaign=camp, out=options["out"], naming=naming,
                                       require_all=options["require_all"], actor_label="cli")
        except TucaiError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        left_out = [{"student_no": e.student.student_no, "name": e.student.name, "class": str(e.student.school_class),
                     "reason": e.reason, "message": REASONS[e.reason][0]} for e in result.missing + result.invalid]
        summary = {"campaign": camp.code, "included": len(result.included), "missing": len(result.missing),
                   "invalid": len(result.invalid), "left_out": left_out}
        if result.path is not None:
            summary.update(file=str(result.path), bytes=result.size, sha256=result.sha256)
        if json:
            self.stdout.write(_json(summary))
            return
        self.stdout.write(f"可交付 {summary['included']} 人；缺照片 {summary['missing']} 人；照片不合格 {summary['invalid']} 人")
        from tucai.proofing.selectors import proofing_window, window_is_open

        window = proofing_window(campaign=camp)
        if window is None:
            self.stderr.write("注意：照片尚未发布校对 / note: the photos have not been published for proofreading")
        elif window_is_open(window):
            self.stderr.write(f"注意：校对期尚未截止（{timezone.localtime(window.closes_at):%Y-%m-%d %H:%M}）/ note: the "
                              "correction window "
                              "is still open")
        for row in left_out:
            self.stdout.write(f"  {row['student_no']} {row['name']} {row['class']}: {row['message']}")
        if result.path is not None:
            self.stdout.write(self.style.SUCCESS(f"已生成 {result.path}（{result.size} 字节，SHA-256 {result.sha256}）"))


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False)
