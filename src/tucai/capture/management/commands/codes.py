"""``tucai codes``: issue, re-issue or revoke capture codes (采集码) from the command line.

    tucai codes issue --campaign demo-2024 [--class 电商1211 | --student 2021001]   # codes for those who have none
    tucai codes reissue --campaign demo-2024 --student 2021001 [--reason ...]
    tucai codes revoke --campaign demo-2024 --student 2021001 --reason 手机丢失
    tucai codes show --campaign demo-2024 --student 2021001        # the active code as text and QR
"""

import io

from django.core.management.base import BaseCommand, CommandError

from tucai.campaigns.cli import campaign_arg
from tucai.campaigns.models import SchoolClass, Student
from tucai.capture import selectors
from tucai.capture.services import codes as code_services
from tucai.core.errors import TucaiError


class Command(BaseCommand):
    help = "发放、重新发放、作废采集码"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["issue", "reissue", "revoke", "show"])
        parser.add_argument("--campaign", required=True, help="活动代码，如 demo-2024")
        parser.add_argument("--class", dest="class_name", help="只处理该班级（issue）")
        parser.add_argument("--student", help="学号（issue 只发给此人；reissue / revoke / show）")
        parser.add_argument("--reason", default="", help="原因（revoke 必填）")

    def handle(self, *args, action, campaign, class_name, student, reason, **options):
        camp = campaign_arg(campaign)
        label = "cli"
        try:
            if action == "issue" and student:
                s = Student.objects.filter(campaign=camp, student_no=student).first()
                if s is None:
                    raise CommandError(f"活动 {campaign} 中没有学号 {student}")
                had = selectors.capture_code_active(student=s)
                code = code_services.capture_code_ensure(student=s, actor_label=label)
                self.stdout.write(self.style.SUCCESS(
                    f"{s} 已有有效采集码（第 {code.version} 版），未发放" if had else f"{s} 已发放第 {code.version} 版采集码"))
                return
            if action == "issue":
                classes = SchoolClass.objects.filter(campaign=camp)
                if class_name:
                    classes = classes.filter(name=class_name)
                    if not classes.exists():
                        raise CommandError(f"活动 {campaign} 中没有班级 {class_name}")
                before = selectors.capture_codes_active_count(campaign=camp)
                total = 0
                for school_class in classes.order_by("name"):
                    total += len(code_services.capture_codes_ensure_for_class(school_class=school_class))
                after = selectors.capture_codes_active_count(campaign=camp)
                self.stdout.write(self.style.SUCCESS(f"{total} 名学生有有效采集码，本次新发放 {after - before} 个"))
                return
            if not student:
                raise CommandError("请用 --student 指定学号")
            s = Student.objects.filter(campaign=camp, student_no=student).first()
            if s is None:
                raise CommandError(f"活动 {campaign} 中没有学号 {student}")
            if action == "reissue":
                code = code_services.capture_code_issue(student=s, actor_label=label, note=reason)
                self.stdout.write(self.style.SUCCESS(f"{s} 已重新发放第 {code.version} 版采集码，旧码作废"))
            elif action == "revoke":
                active = selectors.capture_code_active(student=s)
                if active is None:
                    raise CommandError(f"{s} 没有有效的采集码")
                code_services.capture_code_revoke(code=active, actor_label=label, reason=reason)
                self.stdout.write(self.style.SUCCESS(f"{s} 的第 {active.version} 版采集码已作废"))
            else:
                import segno

                code = selectors.capture_code_active(student=s)
                if code is None:
                    raise CommandError(f"{s} 没有有效的采集码（先运行 issue 或 reissue）")
                self.stdout.write(f"{s} v{code.version}: {code.token}")
                # Through a buffer: Django's stdout wrapper ends every write with a newline, which put a blank
                # line after each QR row and pulled the code apart.
                buf = io.StringIO()
                segno.make(code.token, error="m").terminal(out=buf, compact=True)
                self.stdout.write(buf.getvalue(), ending="")
        except TucaiError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
