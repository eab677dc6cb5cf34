"""The printable notice (图像采集通知): one structure, rendered as an HTML page and as a PDF.

Everything that varies comes from the campaign's data — the schedule per slot and room, rooms per
department, fee and prints, make-up centre, proofreading timeline — so changing the schedule changes
the notice. The fixed wording follows the real notice (../shared/seed/notice-2024-graduate-photo-capture.txt).

The PDF uses ReportLab's built-in CID font ``STSong-Light``: it needs no font file (Noto CJK ships as
CFF ``.ttc``, which ReportLab cannot embed); PDF readers supply the glyphs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
from collections import OrderedDict
from pathlib import Path
from xml.sax.saxutils import escape

from django.template.loader import render_to_string

from tucai.core.files import write_atomic
from tucai.campaigns.models import Campaign, DepartmentRoom, Student
from tucai.campaigns.services.planner import schedule_overview

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
CN_SECTION = "一二三四五六七八九十"

# Fixed wording from the notice: the legal basis, capture flow and photo rules (教毕指〔2017〕9号).
PREAMBLE = (
    "根据教育部（教学厅〔2002〕5号）文件要求，为加强高等教育学历证书管理，保护高等教育机构和毕(结)业生的利益，"
    "维护国家学历制度的严肃性，2002年教育部决定，毕业生的相片和已经注册的学历证书一同上网供社会查询，"
    "由新华通讯社所属中国图片社负责图像信息采集工作，以确保上网图像信息的规格、质量和国家人才数据库建设的标准和安全。"
)
CAPTURE_FLOW = (
    "由于身份采集方式变更，学生需提前获取本人采集码，拍摄当天用手机刷采集码拍摄，采集码获取途径见附件。",
    "全班同学拍摄前，由班长统一缴费。",
    "接到工作人员通知后，排队依次进入拍摄室，刷本人采集码，核对本人信息，电脑生成该生“拍摄序号”后，"
    "学生按照“拍摄序号”排队，严禁插队、不刷采集码拍摄。",
    "拍摄时间向摄影师报“拍摄序号”，以避免出现人和信息不符的现象，核对信息无误后即可拍摄。",
)
PHOTO_RULES = (
    ("人物姿态与表情", "坐姿端正，表情自然，双眼自然睁开并平视，耳朵对称，保持左右肩膀平衡、两手自然下垂，嘴唇自然闭合。"),
    ("眼睛", "尽量不戴眼镜，常戴眼镜者可佩戴眼镜，但不得带有色眼镜（含有色隐形眼镜），镜框不得遮挡眼睛，眼镜不能有反光。"),
    ("佩饰及遮挡物", "不得使用头部覆盖物（宗教、医疗和文化需要时，不得遮挡脸部或造成阴影）。不得佩戴耳环、项链等饰品。"
                   "头发不得遮挡眉毛、眼镜和耳朵。"),
    ("衣着", "最好穿单色有领衣服，尽量避免复杂图案、花纹，建议着正装，带领带袖。禁止穿吊带、无袖、低胸衫、奇装异服。"
           "因图像采集背景是蓝色，禁止穿蓝色、黄色、绿色、紫色衣服。"),
    ("发型", "发型整齐，露出眉毛耳朵，不得有碎发。"),
    ("化妆", "可化淡妆，不宜浓妆。"),
)


def cn_date(d: dt.date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def hm(t: dt.time) -> str:
    return f"{t.hour}:{t.minute:02d}"


def weeks_text(days: int, *, span: bool) -> str:
    """21 days -> "2-3周" (the notice's wording for publishing), 14 -> "2周"; others in days."""
    if days and days % 7 == 0:
        w = days // 7
        return f"{w - 1}-{w}周" if span and w >= 2 else f"{w}周"
    return f"{days}天"


@dataclasses.dataclass
class NoticeWindow:
    label: str                                  # ①上午 8:00—9:00
    rooms: list[tuple[str, list[str]]]          # (room, classes in order)


@dataclasses.dataclass
class NoticeDay:
    date: dt.date
    windows: list[NoticeWindow]


def notice_context(*, campaign: Campaign) -> dict:
    """Everything the notice shows, computed from the campaign's data."""
    inst = campaign.institution
    ov = schedule_overview(campaign=campaign)
    # Group slots by day, then by time window (both rooms share a window in the notice).
    days: OrderedDict[dt.date, OrderedDict[tuple, list]] = OrderedDict()
    for row in ov["slots"]:
        days.setdefault(row["date"], OrderedDict()).setdefault((row["start"], row["end"]), []).append(row)
    schedule: list[NoticeDay] = []
    n = 0
    for date, windows in days.items():
        items = []
        for (start, end), rows in windows.items():
            mark = CIRCLED[n] if n < len(CIRCLED) else f"({n + 1})"
            n += 1
            half = "上午" if start.hour < 12 else "下午"
            items.append(NoticeWindow(label=f"{mark}{half} {hm(start)}—{hm(end)}",
                                      rooms=[(r["room"], [c["name"] for c in r["classes"]]) for r in rows]))
        schedule.append(NoticeDay(date=date, windows=items))
    capture_dates = [d.date for d in schedule] or [campaign.capture_start]
    # Rooms per department ("管理艺术学院和智能制造学院在博学楼（图书馆）一会议室").
    by_room: OrderedDict[str, list[str]] = OrderedDict()
    for dr in DepartmentRoom.objects.filter(campaign=campaign).select_related("room", "department").order_by(
            "room_id", "department_id"):
        by_room.setdefault(str(dr.room), []).append(dr.department.name)
    locations = "；".join(f"{'、'.join(depts[:-1]) + '和' + depts[-1] if len(depts) > 1 else depts[0]}的学生在{room}"
                          for room, depts in by_room.items())
    last_day = max(capture_dates)
    publish_by = last_day + dt.timedelta(days=campaign.proofing_publish_after_days)
    return {
        "campaign": campaign,
        "institution": inst.name,
        "office": inst.office_name,
        "title": f"关于 {campaign.graduation_year} 届毕业生电子图像采集的通知",
        "preamble": PREAMBLE,
        "lead": (f"依据教育部、新华社的有关要求，现将我院 {campaign.graduation_year} 届毕业生图像采集安排通知如下，"
                 "请各位毕业生做好准备工作，务必准时参加："),
        "scope": f"我院 {campaign.graduation_year} 届全体毕业班学生。",
        "dates": "、".join(cn_date(d) for d in capture_dates),
        "last_day": cn_date(last_day),
        "locations": locations,
        "schedule": schedule,
        "unassigned": [c["name"] for c in ov["unassigned"]],
        "fee_yuan": campaign.fee_yuan,
        "fee_text": (f"图像信息采集收费标准依据《关于规范高校毕业生图像信息采集收费的说明函》执行，每人 {campaign.fee_yuan} 元"
                     f"（含 1 寸数码彩照 {campaign.prints_1inch} 张、1.5 寸数码彩照 {campaign.prints_15inch} 张）。"
                     "该费用由各班班长在采集现场清点人数后统一以班为单位交新华社相关工作人员，补拍的学生在"
                     f"{campaign.makeup_centre or '补拍地点'}自行缴费。"),
        "makeup_text": (f"无法参加拍照的学生，请于 {cn_date(last_day)}后自行联系{campaign.makeup_centre or '采集单位'}进行补拍"
                        + (f"，散拍时间为{campaign.makeup_hours}" if campaign.makeup_hours else "")
                        + (f"，地址：{campaign.makeup_address}" if campaign.makeup_address else "")
                        + (f"，电话 {campaign.makeup_phone}" if campaign.makeup_phone else "") + "。"),
        "flow": CAPTURE_FLOW,
        "rules": PHOTO_RULES,
        "proofing_text": (
            (f"学生提前关注“{campaign.wechat_account}”公众号，" if campaign.wechat_account else "")
            + f"学历照片在采集后{weeks_text(campaign.proofing_publish_after_days, span=True)}内会上传"
            + ("至此公众号" if campaign.wechat_account else "供校对")
            + f"（预计{cn_date(publish_by)}前），学生需留意下发的校对提醒，在收到提醒后于"
            + f"{weeks_text(campaign.proofing_window_days, span=False)}内完成信息勘误，勘误工作完成后，学生学历照片将上传学信网。"),
        "other_text": ("拍照请听从工作人员安排，以免影响拍摄效果。本次相片采集时间安排紧凑，以班为单位集体交费后采集，"
                       "请各学院务必提醒学生以班为单位按时到达，不要迟到。"),
        "extra": campaign.notice_extra,
        "notice_date": cn_date(campaign.notice_date),
        "is_demo": Student.objects.filter(campaign=campaign, is_demo=True).exists(),
        "seconds_per_student": campaign.seconds_per_student,
    }


def notice_html(*, campaign: Campaign, request=None) -> str:
    """The notice as a standalone printable HTML page."""
    return render_to_string("campaigns/notice/notice.html", notice_context(campaign=campaign), request=request)


# --- PDF ---------------------------------------------------------------------------------------

FONT = "STSong-Light"


def _styles():
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    base = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=17, wordWrap="CJK", firstLineIndent=21)
    return {
        "inst": ParagraphStyle("inst", parent=base, fontSize=13, leading=20, alignment=TA_CENTER, firstLineIndent=0),
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=26, alignment=TA_CENTER, firstLineIndent=0,
                                spaceAfter=8),
        "h1": ParagraphStyle("h1", parent=base, fontSize=12, leading=20, spaceBefore=6, firstLineIndent=0),
        "h2": ParagraphStyle("h2", parent=base, firstLineIndent=0, leftIndent=10.5, spaceBefore=3),
        "body": base,
        "slot": ParagraphStyle("slot", parent=base, firstLineIndent=0, leftIndent=21, spaceBefore=3),
        "room": ParagraphStyle("room", parent=base, firstLineIndent=0, leftIndent=42),
        "demo": ParagraphStyle("demo", parent=base, firstLineIndent=0, textColor="#b26a00", alignment=TA_CENTER),
        "sign": ParagraphStyle("sign", parent=base, alignment=TA_RIGHT, firstLineIndent=0),
    }


def notice_pdf(*, campaign: Campaign) -> bytes:
    """The notice as an A4 PDF."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    ctx = notice_context(campaign=campaign)
    st = _styles()
    p = lambda text, style="body": Paragraph(escape(text), st[style])  # noqa: E731
    story = []
    if ctx["is_demo"]:
        story.append(p("【演示数据】本通知由演示活动生成，学生与证件号均为虚构。", "demo"))
    story += [p(f"{ctx['institution']}{ctx['office']}", "inst"), p(ctx["title"], "title"),
              p(ctx["preamble"]), p(ctx["lead"]),
              p("一、图像采集安排", "h1"),
              p("1. 参加本次图像采集的学生范围", "h2"), p(ctx["scope"]),
              p("2. 图像采集的时间、顺序、地点", "h2"),
              p(f"(1) 日期：{ctx['dates']}。")]
    if ctx["locations"]:
        story.append(p(f"(2) 地点：{ctx['locations']}进行拍摄。"))
    story.append(p("(3) 班级拍摄时间及顺序："))
    for day in ctx["schedule"]:
        if len(ctx["schedule"]) > 1:
            story.append(p(cn_date(day.date), "slot"))
        for w in day.windows:
            story.append(p(w.label, "slot"))
            for room, classes in w.rooms:
                story.append(p(f"{room}：{'、'.join(classes) if classes else '（无）'}。", "room"))
    if ctx["unassigned"]:
        story.append(p(f"尚未安排时段的班级：{'、'.join(ctx['unassigned'])}。请留意后续通知。"))
    story += [p("3. 补拍", "h2"), p(ctx["makeup_text"]),
              p("二、图像采集缴费", "h1"), p(ctx["fee_text"]),
              p("三、拍摄流程", "h1")]
    story += [p(f"{i}. {text}") for i, text in enumerate(ctx["flow"], 1)]
    story += [p("四、图像采集要求", "h1"),
              p("根据教毕指〔2017〕9 号文《高等教育学历证书电子注册图像采集规范》，要求如下：")]
    story += [p(f"{name}：{text}") for name, text in ctx["rules"]]
    story += [p("五、其它", "h1"), p(ctx["other_text"]), p(ctx["proofing_text"])]
    if ctx["extra"]:
        story += [p(line) for line in ctx["extra"].splitlines() if line.strip()]
    story += [Spacer(1, 12), p(ctx["office"], "sign"), p(ctx["notice_date"], "sign")]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=ctx["title"], author=ctx["institution"], subject=campaign.code)
    doc.build(story)
    return buf.getvalue()


def notice_write_pdf(*, campaign: Campaign, path: str | os.PathLike) -> Path:
    """Write the PDF atomically."""
    return write_atomic(path, notice_pdf(campaign=campaign))


def notice_write_html(*, campaign: Campaign, path: str | os.PathLike) -> Path:
    """Write the HTML page atomically."""
    return write_atomic(path, notice_html(campaign=campaign).encode("utf-8"))
