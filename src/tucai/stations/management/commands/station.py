"""``tucai station watch DIR --room ROOM --campaign CODE [--station NAME] [--once]`` and ``tucai station recheck``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tucai.campaigns.selectors import campaign_by_code
from tucai.core.errors import TucaiError
from tucai.stations.selectors import room_resolve, station_list
from tucai.stations.services import shot_recheck_pending, station_get_or_create
from tucai.stations.watcher import HotFolderWatcher


class Command(BaseCommand):
    help = "拍摄机位：watch 监视联机拍摄的热文件夹；recheck 重新检测未出结论的照片；list 列出机位"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        w = sub.add_parser("watch", help="监视热文件夹：每个写完的照片文件恰好采集一次，绑定到机位当前学生")
        w.add_argument("directory", help="相机联机软件保存照片的文件夹")
        w.add_argument("--campaign", required=True, help="活动代码，如 demo-2024")
        w.add_argument("--room", required=True, help="拍摄室 ID 或名称")
        w.add_argument("--station", default="1", help="机位名称（默认 1）")
        w.add_argument("--once", action="store_true", help="处理完文件夹中现有文件后退出")
        w.add_argument("--recursive", action="store_true", help="也监视子文件夹（按日期分文件夹的联机软件）")
        w.add_argument("--interval", type=float, default=0.2, help="轮询间隔（秒，默认 0.2）")
        r = sub.add_parser("recheck", help="重新检测未出结论的照片（检测中断后）")
        r.add_argument("--campaign", required=True)
        ls = sub.add_parser("list", help="列出机位")
        ls.add_argument("--campaign", required=True)

    def handle(self, *args, action, campaign, **options):
        try:
            camp = campaign_by_code(campaign)
            if action == "watch":
                return self._watch(camp, **options)
            if action == "recheck":
                n = shot_recheck_pending(campaign=camp)
                self.stdout.write(f"重新检测 {n} 张照片")
                return
            for s in station_list(campaign=camp):
                self.stdout.write(f"{s.pk}\t{s.room}\t{s.name}\t{s.hot_folder or '-'}")
        except TucaiError as e:
            raise CommandError(f"{e.code}: {e.message}") from e

    def _warm_up(self):
        """Load the face models before the first frame, so that frame's verdict is as quick as the rest
        (with the immediate backend the check runs in this process)."""
        from django.conf import settings

        if "Immediate" not in settings.TASKS.get("default", {}).get("BACKEND", ""):
            return
        try:
            from tucai.photo.analysis import warm_up
        except ImportError:
            return
        warm_up()

    def _watch(self, camp, *, directory, room, station, once, interval, recursive=False, **_):
        folder = Path(directory).resolve()
        if not folder.is_dir():
            raise CommandError(f"station.folder_not_found: 文件夹不存在：{folder}")
        st = station_get_or_create(campaign=camp, room=room_resolve(campaign=camp, ref=room), name=station,
                                   hot_folder=str(folder), actor_label="cli")
        watcher = HotFolderWatcher(station=st, directory=folder, interval=max(0.05, interval), recursive=recursive)
        self._warm_up()
        self.stdout.write(f"监视 {folder} → {st}（按 Ctrl+C 停止）" if not once else f"处理 {folder} → {st}")
        self.stdout.flush()

        def report(res):
            for shot in res.taken:
                who = shot.student.name if shot.student_id else "未匹配"
                self.stdout.write(f"+ {Path(shot.source_path).name} → #{shot.pk} {who} {shot.verdict or shot.state}")
            for err in res.errors:
                self.stderr.write(f"! {err}")
            self.stdout.flush()

        try:
            n = watcher.run(once=once, on_poll=report)
        except KeyboardInterrupt:
            return
        self.stdout.write(f"完成：新采集 {n} 张")
