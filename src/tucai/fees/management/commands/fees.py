"""``tucai fees``: the fee ledger from the command line.

    tucai fees summary --campaign demo-2024 [--json]
    tucai fees record --campaign demo-2024 --class 电商1211 --method cash [--reference R] [--amount-yuan 20]
    tucai fees record --campaign demo-2024 --student 2021001 2021002 --method wechat --reference 4200001234
    tucai fees void 12 --reason "记错班级" [--campaign demo-2024]
    tucai fees export --campaign demo-2024 fees.xlsx|fees.csv [--sheet 学生明细]

``record --class`` without ``--student`` records the class collection for the class's students who
still owe (the 班长 pays after the head count); with ``--student`` only those students. A class collection
charges each student what they still owe, at most ``--amount-yuan``; without ``--class`` a payment that would
take a student past the fee is refused unless ``--allow-extra``.
"""

import json
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import translation

from tucai.campaigns.cli import campaign_arg
from tucai.campaigns.models import Campaign, SchoolClass, Student
from tucai.core.errors import TucaiError
from tucai.core.management.base import JsonCommand
from tucai.fees import selectors, services
from tucai.fees.models import Payment, PaymentMethod
from tucai.fees.money import fen_to_yuan, yuan_to_fen

LABEL = "cli"


def _method(value: str) -> str:
    """A method code (cash, wechat, …) or its Chinese label (现金, 微信, …)."""
    value = (value or "").strip()
    by_label = {}
    for lang in ("zh-hans", "en"):   # 现金 or Cash, whatever language the shell's command runs in
        with translation.override(lang):
            by_label.update({str(label).lower(): code for code, label in PaymentMethod.choices})
    if value.lower() in PaymentMethod.values:
        return value.lower()
    if value.lower() in by_label:
        return by_label[value.lower()]
    allowed = ", ".join(f"{c} ({lab})" for c, lab in PaymentMethod.choices)
    raise CommandError(f"未知的缴费方式 {value!r}；可用：{allowed}")


class Command(JsonCommand):
    help = "采集费：汇总、记录缴费、作废、导出"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("summary", help="各班已缴/未缴人数与金额")
        p.add_argument("--campaign", required=True, help="活动代码，如 demo-2024")
        p.add_argument("--json", action="store_true", help="输出 JSON")
        p = sub.add_parser("record", help="记录一笔缴费（班级统一缴费或个人缴费）")
        p.add_argument("--campaign", required=True)
        p.add_argument("--class", dest="class_name", help="班级名称（班级统一缴费）")
        p.add_argument("--student", nargs="+", default=[], help="学号（一个或多个）")
        p.add_argument("--method", required=True, help="cash/wechat/alipay/bank/campus_card/other 或 现金/微信/…")
        p.add_argument("--reference", default="", help="收据号 / 交易号（同一活动内唯一）")
        p.add_argument("--amount-yuan", default=None, help="每人金额（元），默认为活动收费标准")
        p.add_argument("--payer", default="", help="交款人，如班长姓名")
        p.add_argument("--note", default="")
        p.add_argument("--allow-extra", action="store_true", help="允许为已缴清的学生再次收款")
        p = sub.add_parser("void", help="作废一笔缴费")
        p.add_argument("payment_id", type=int)
        p.add_argument("--reason", required=True)
        p.add_argument("--campaign", default=None, help="活动代码：只作废该活动的缴费（防止编号输错作废别的活动的记录）")
        p = sub.add_parser("export", help="导出 .xlsx（三张表）或 .csv（一张表）")
        p.add_argument("--campaign", required=True)
        p.add_argument("out")
        p.add_argument("--sheet", default="学生明细", choices=selectors.EXPORT_SHEETS, help="CSV 导出哪张表")

    def handle(self, *args, action, **opts):
        try:
            getattr(self, f"_{action}")(**opts)
        except TucaiError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc

    def _campaign(self, code: str) -> Campaign:
        return campaign_arg(code)

    def _summary(self, *, campaign, json: bool = False, **_):  # noqa: A002 — the option is --json
        data = selectors.class_fee_summary(campaign=self._campaign(campaign))
        if json:
            self.stdout.write(_dumps(data))
            return
        self.stdout.write(f"每人 {fen_to_yuan(data['fee_per_student_fen'])} 元")
        self.stdout.write(f"{'班级':<16}{'人数':>6}{'已缴清':>8}{'未缴清':>8}{'应收(元)':>12}{'已收(元)':>12}")
        for r in [*data["classes"], {"name": "合计", **data["total"]}]:
            self.stdout.write(f"{r['name']:<16}{r['students']:>6}{r['paid']:>8}{r['unpaid']:>8}"
                              f"{fen_to_yuan(r['expected_fen']):>12}{fen_to_yuan(r['received_fen']):>12}")

    def _record(self, *, campaign, class_name, student, method, reference, amount_yuan, payer, note, allow_extra,
                **_):
        camp = self._campaign(campaign)
        method = _method(method)
        amount = None if amount_yuan is None else yuan_to_fen(amount_yuan)
        school_class = None
        if class_name:
            school_class = SchoolClass.objects.filter(campaign=camp, name=class_name).first()
            if school_class is None:
                raise CommandError(f"活动 {campaign} 中没有班级 {class_name}")
        if student:
            found = {s.student_no: s for s in Student.objects.filter(campaign=camp, student_no__in=student)}
            missing = [no for no in student if no not in found]
            if missing:
                raise CommandError(f"活动 {campaign} 中没有学号：{'、'.join(missing)}")
            students = list(found.values())
        elif school_class is not None:
            students = selectors.class_unpaid_students(campaign=camp, class_ids=[school_class.pk])
            if not students:
                raise CommandError(f"班级 {class_name} 没有未缴清的学生")
        else:
            raise CommandError("请用 --class 或 --student 指定缴费的学生")
        payment = services.payment_record(
            campaign=camp, students=students, method=method, amount_fen_each=amount, school_class=school_class,
            payer_name=payer, reference=reference, note=note, actor_label=LABEL, allow_extra=allow_extra,
            # a class collection charges each student what they still owe (at most the amount), like the page
            up_to_owed=school_class is not None)
        verb = "已入账" if payment.created else "收据号已入账，未重复记录："
        self.stdout.write(self.style.SUCCESS(
            f"{verb} 缴费记录 #{payment.pk}：{payment.lines.count()} 人，合计 {fen_to_yuan(payment.total_fen)} 元"))

    def _void(self, *, payment_id, reason, campaign=None, **_):
        payments = Payment.objects.filter(pk=payment_id)
        if campaign:
            payments = payments.filter(campaign=self._campaign(campaign))
        payment = payments.first()
        if payment is None:
            raise CommandError(f"没有编号为 {payment_id} 的缴费记录" + (f"（活动 {campaign}）" if campaign else ""))
        services.payment_void(payment=payment, reason=reason, actor_label=LABEL)
        self.stdout.write(self.style.SUCCESS(f"缴费记录 #{payment_id} 已作废"))

    def _export(self, *, campaign, out, sheet, **_):
        camp = self._campaign(campaign)
        path = Path(out)
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            data = selectors.fees_export_xlsx(campaign=camp)
        elif suffix == ".csv":
            data = selectors.fees_export_csv(campaign=camp, sheet=sheet)
        else:
            raise CommandError(f"不支持的导出格式 {path.suffix or '(无扩展名)'}：请用 .xlsx 或 .csv")
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"无法写入 {path}: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"已导出 {path}"))


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
