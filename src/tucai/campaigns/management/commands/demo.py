"""``tucai demo``: create the demo campaign from the 2024 notice (idempotent) and print the logins."""

from django.core.management.base import BaseCommand

from tucai.campaigns.services.demo import demo_create


class Command(BaseCommand):
    help = "创建演示采集活动 demo-2024（可重复运行，不会重复创建），并打印演示账号与密码"

    def handle(self, *args, **options):
        result = demo_create()
        made = {k: v for k, v in result.created.items() if v}
        if made:
            self.stdout.write(self.style.SUCCESS(
                "演示活动已创建: " + ", ".join(f"{k}={v}" for k, v in made.items())))
        else:
            self.stdout.write(f"演示活动 {result.campaign.code} 已存在，无需改动")
        self.stdout.write(f"活动: {result.campaign.name} ({result.campaign.code}) — 学生与证件号均为虚构演示数据")
        self.stdout.write(f"演示账号（保存在 {result.credentials_path}）:")
        for username, password, label in result.credentials:
            self.stdout.write(f"  {username:<9} {password}  {label}")
