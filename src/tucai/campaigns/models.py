"""Institutions, campaigns, departments, classes, students, rooms, time slots and the schedule."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Institution(models.Model):
    code = models.SlugField(_("代码"), max_length=50, unique=True)
    name = models.CharField(_("院校名称"), max_length=100, unique=True)
    office_name = models.CharField(_("组织部门"), max_length=50, default="教务处")

    class Meta:
        verbose_name = _("院校")
        verbose_name_plural = _("院校")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="campaigns",
                                    verbose_name=_("院校"))
    code = models.SlugField(_("活动代码"), max_length=50, unique=True, help_text=_("如 demo-2024；命令行用 --campaign 指定"))
    name = models.CharField(_("名称"), max_length=100)
    graduation_year = models.PositiveSmallIntegerField(_("毕业届别"))
    capture_start = models.DateField(_("采集开始日期"))
    capture_end = models.DateField(_("采集结束日期"))
    fee_per_student_fen = models.PositiveIntegerField(_("每人费用（分）"), default=2000)
    prints_1inch = models.PositiveSmallIntegerField(_("1寸冲印张数"), default=8)
    prints_15inch = models.PositiveSmallIntegerField(_("1.5寸冲印张数"), default=4)
    seconds_per_student = models.PositiveSmallIntegerField(_("每人拍摄秒数"), default=20)
    photo_profile = models.CharField(_("照片规格"), max_length=40, default="chsi")
    proofing_publish_after_days = models.PositiveSmallIntegerField(
        _("采集后几天发布校对"), default=21, help_text=_("通知：采集后 2–3 周上传供校对"))
    proofing_window_days = models.PositiveSmallIntegerField(_("勘误期限（天）"), default=14)
    makeup_centre = models.CharField(_("补拍地点名称"), max_length=100, blank=True)
    makeup_address = models.CharField(_("补拍地址"), max_length=200, blank=True)
    makeup_phone = models.CharField(_("补拍电话"), max_length=50, blank=True)
    makeup_hours = models.CharField(_("补拍时间"), max_length=100, blank=True)
    wechat_account = models.CharField(_("校对公众号"), max_length=100, blank=True)
    notice_date = models.DateField(_("通知日期"), null=True, blank=True)
    notice_extra = models.TextField(_("通知补充说明"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("采集活动")
        verbose_name_plural = _("采集活动")
        ordering = ["-graduation_year", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def fee_yuan(self) -> str:
        yuan, fen = divmod(self.fee_per_student_fen, 100)
        return f"{yuan}" if fen == 0 else f"{yuan}.{fen:02d}"


class Department(models.Model):
    """学院 / 分院."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="departments",
                                    verbose_name=_("院校"))
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("学院")
        verbose_name_plural = _("学院")
        ordering = ["institution", "name"]
        constraints = [models.UniqueConstraint(fields=["institution", "name"], name="uniq_department_name")]

    def __str__(self) -> str:
        return self.name


class SchoolClass(models.Model):
    """A graduating class (班级) in one campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="classes", verbose_name=_("采集活动"))
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="classes",
                                   verbose_name=_("学院"))
    name = models.CharField(_("班级"), max_length=100)
    monitor = models.ForeignKey("Student", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("班长"))

    class Meta:
        verbose_name = _("班级")
        verbose_name_plural = _("班级")
        ordering = ["campaign", "name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="uniq_class_name")]

    def __str__(self) -> str:
        return self.name


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")
    UNKNOWN = "U", _("未知")


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    HK_MO_TW_PERMIT = "hmt_residence", _("港澳台居民居住证")
    FOREIGN_PR = "foreign_pr", _("外国人永久居留身份证")
    HK_MO_TRAVEL = "hm_travel", _("港澳居民来往内地通行证")
    TW_TRAVEL = "tw_travel", _("台湾居民来往大陆通行证")
    PASSPORT = "passport", _("护照")


class StudentStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    INACTIVE = "inactive", _("已移出")


class Student(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="students", verbose_name=_("采集活动"))
    student_no = models.CharField(_("学号"), max_length=40)
    name = models.CharField(_("姓名"), max_length=100)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN)
    doc_type = models.CharField(_("证件类型"), max_length=20, choices=DocumentType.choices,
                                default=DocumentType.RESIDENT_ID)
    doc_number = models.CharField(_("证件号码"), max_length=40)
    school_class = models.ForeignKey(SchoolClass, on_delete=models.PROTECT, related_name="students",
                                     verbose_name=_("班级"))
    status = models.CharField(_("状态"), max_length=10, choices=StudentStatus.choices, default=StudentStatus.ACTIVE,
                              db_index=True)
    is_demo = models.BooleanField(_("演示数据"), default=False, help_text=_("虚构的演示学生，证件号仅格式有效"))
    phone = models.CharField(_("手机"), max_length=30, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("学生")
        verbose_name_plural = _("学生")
        ordering = ["campaign", "student_no"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "student_no"], name="uniq_student_no"),
            models.UniqueConstraint(fields=["campaign", "doc_type", "doc_number"], name="uniq_student_doc"),
        ]
        indexes = [models.Index(fields=["campaign", "name"]), models.Index(fields=["school_class", "status"])]

    def __str__(self) -> str:
        return f"{self.student_no} {self.name}"

    @property
    def masked_doc_number(self) -> str:
        return mask_doc_number(self.doc_number)


def mask_doc_number(number: str) -> str:
    """4305**********1234: first 4 and last 4 kept; short numbers keep less."""
    n = len(number)
    if n <= 4:
        return "*" * n
    keep = 4 if n >= 12 else max(1, n // 4)
    return number[:keep] + "*" * (n - 2 * keep) + number[-keep:]


def mask_phone(phone: str) -> str:
    """138****1234: a mobile number keeps its first 3 and last 4 digits; shorter ones their last 2."""
    n = len(phone)
    if n >= 11:
        return phone[:3] + "*" * (n - 7) + phone[-4:]
    return "*" * max(0, n - 2) + phone[-2:] if n > 2 else "*" * n


class Room(models.Model):
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="rooms", verbose_name=_("院校"))
    building = models.CharField(_("楼宇"), max_length=100)
    name = models.CharField(_("房间"), max_length=100)
    stations = models.PositiveSmallIntegerField(_("拍摄机位数"), default=1)

    class Meta:
        verbose_name = _("拍摄室")
        verbose_name_plural = _("拍摄室")
        ordering = ["institution", "building", "name"]
        constraints = [models.UniqueConstraint(fields=["institution", "building", "name"], name="uniq_room")]

    def __str__(self) -> str:
        return f"{self.building}{self.name}"


class DepartmentRoom(models.Model):
    """Planner constraint: this department's classes are shot in this room (in this campaign)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="department_rooms",
                                 verbose_name=_("采集活动"))
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+", verbose_name=_("学院"))
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+", verbose_name=_("拍摄室"))

    class Meta:
        verbose_name = _("学院拍摄室约束")
        verbose_name_plural = _("学院拍摄室约束")
        constraints = [models.UniqueConstraint(fields=["campaign", "department"], name="uniq_department_room")]

    def __str__(self) -> str:
        return f"{self.department} → {self.room}"


class TimeSlot(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="slots", verbose_name=_("采集活动"))
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="slots", verbose_name=_("拍摄室"))
    date = models.DateField(_("日期"))
    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"))

    class Meta:
        verbose_name = _("时段")
        verbose_name_plural = _("时段")
        ordering = ["campaign", "date", "start", "room"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "room", "date", "start"], name="uniq_slot"),
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="slot_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.start:%H:%M}–{self.end:%H:%M} {self.room}"

    @property
    def seconds(self) -> int:
        return (self.end.hour * 3600 + self.end.minute * 60) - (self.start.hour * 3600 + self.start.minute * 60)


class SlotAssignment(models.Model):
    """A class assigned to a time slot; ``position`` is the order within the slot (as in the notice)."""

    slot = models.ForeignKey(TimeSlot, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("时段"))
    school_class = models.OneToOneField(SchoolClass, on_delete=models.CASCADE, related_name="assignment",
                                        verbose_name=_("班级"))
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("班级时段安排")
        verbose_name_plural = _("班级时段安排")
        ordering = ["slot", "position"]

    def __str__(self) -> str:
        return f"{self.school_class} @ {self.slot}"


class ImportJobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("已上传")
    VALIDATING = "validating", _("检查中")
    VALID = "valid", _("检查通过，待确认")
    INVALID = "invalid", _("有错误")
    COMMITTING = "committing", _("导入中")
    DONE = "done", _("已导入")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


# Roster import jobs as data: which status may follow which (see services.roster.import_job_transition).
IMPORT_JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    ImportJobStatus.UPLOADED: frozenset({ImportJobStatus.VALIDATING, ImportJobStatus.CANCELLED}),
    ImportJobStatus.VALIDATING: frozenset({ImportJobStatus.VALID, ImportJobStatus.INVALID, ImportJobStatus.FAILED}),
    ImportJobStatus.VALID: frozenset({ImportJobStatus.COMMITTING, ImportJobStatus.CANCELLED}),
    ImportJobStatus.INVALID: frozenset({ImportJobStatus.CANCELLED}),
    ImportJobStatus.COMMITTING: frozenset({ImportJobStatus.DONE, ImportJobStatus.INVALID, ImportJobStatus.FAILED}),
    ImportJobStatus.DONE: frozenset(),
    ImportJobStatus.FAILED: frozenset(),
    ImportJobStatus.CANCELLED: frozenset(),
}


class ImportJob(models.Model):
    """One uploaded roster file on its way through dry run → confirmation → commit (web UI)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="import_jobs",
                                 verbose_name=_("采集活动"))
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("上传者"))
    filename = models.CharField(_("文件名"), max_length=255)
    stored_path = models.CharField(_("存储路径"), max_length=500, blank=True,
                                   help_text=_("上传文件在私有存储中的位置；导入完成或取消后删除"))
    full = models.BooleanField(_("完整名单"), default=False,
                               help_text=_("名单外的学生标记为“已移出”"))
    status = models.CharField(_("状态"), max_length=12, choices=ImportJobStatus.choices,
                              default=ImportJobStatus.UPLOADED, db_index=True)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    summary = models.JSONField(_("汇总"), default=dict, blank=True)
    errors = models.JSONField(_("行错误"), default=list, blank=True)
    error = models.JSONField(_("文件错误"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("名单导入")
        verbose_name_plural = _("名单导入")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.status in (ImportJobStatus.UPLOADED, ImportJobStatus.VALIDATING, ImportJobStatus.COMMITTING)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.rows_done / self.rows_total)) if self.rows_total else 0
