"""``tucai notice --campaign CODE OUT.pdf``: the campaign's printable notice as a PDF (or .html)."""

from django.core.management.base import BaseCommand, CommandError

from tucai.campaigns.selectors import campaign_by_code
from tucai.campaigns.services.notice import notice_write_html, notice_write_pdf
from tucai.core.errors import TucaiError


class Command(BaseCommand):
    help = "生成采集通知（PDF；输出文件以 .html 结尾时生成网页）"

    def add_arguments(self, parser):
        parser.add_argument("out", help="输出文件，如 notice.pdf 或 notice.html")
        parser.add_argument("--campaign", required=True, help="活动代码，如 demo-2024")

    def handle(self, *args, out, campaign, **options):
        try:
            camp = campaign_by_code(campaign)
            if not out.lower().endswith((".pdf", ".html", ".htm")):
                # A PDF named .txt opens as garbage wherever it is sent.
                raise CommandError(f"输出文件须为 .pdf 或 .html：{out}")
            if out.lower().endswith((".html", ".htm")):
                notice_write_html(campaign=camp, path=out)
            else:
                notice_write_pdf(campaign=camp, path=out)
        except TucaiError as e:
            raise CommandError(f"{e.code}: {e.message}") from e
        self.stdout.write(self.style.SUCCESS(f"已生成 {out}"))
