"""The English catalogue: complete, faithful to its placeholders, compiled, and used by the pages.

The UI is written in 简体中文 (the msgids); ``src/tucai/locale/en`` carries the English. The
.mo is committed because a fresh machine may have no gettext, so a test also checks that it
matches the .po.
"""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import make_user

LOCALE = Path(__file__).resolve().parents[2] / "src" / "tucai" / "locale"
PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "en" / "LC_MESSAGES" / "django.mo"

# %(name)s / %(n)d style, plus bare %s / %d; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]")
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Entry:
    msgid: str
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # index 0 for a singular entry
    flags: set[str] = field(default_factory=set)
    refs: list[str] = field(default_factory=list)
    obsolete: bool = False
    line: int = 0


def parse_po(text: str) -> list[Entry]:
    """A tiny .po reader: enough for what makemessages/msgmerge write (no polib on this machine)."""
    entries: list[Entry] = []
    cur: Entry | None = None
    key: tuple[str, int] | None = None
    fields: dict[tuple[str, int], str] = {}

    def finish():
        nonlocal cur, fields
        if cur is not None and fields:
            cur.msgid = fields.get(("msgid", 0), "")
            cur.msgctxt = fields.get(("msgctxt", 0))
            cur.msgid_plural = fields.get(("msgid_plural", 0))
            cur.msgstr = {i: v for (k, i), v in fields.items() if k == "msgstr"}
            entries.append(cur)
        cur, fields = None, {}

    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            finish()
            key = None
            continue
        if cur is None:
            cur = Entry(msgid="", line=n)
        if line.startswith("#~"):  # an obsolete entry: read it like any other, flagged
            cur.obsolete = True
            line = line[2:].strip()
        if line.startswith("#,"):
            cur.flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#:"):
            cur.refs += line[2:].split()
            continue
        if line.startswith("#"):
            continue
        m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$', line)
        if m:
            if m.group(1) == "msgid" and ("msgid", 0) in fields:  # no blank line between entries
                finish()
                cur = Entry(msgid="", line=n)
            key = (m.group(1), int(m.group(2) or 0))
            fields[key] = ast.literal_eval(m.group(3))
        elif line.startswith('"') and key is not None:
            fields[key] += ast.literal_eval(line)
        else:
            raise ValueError(f"django.po:{n}: cannot read {raw!r}")
    finish()
    return entries


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    assert PO.exists(), f"{PO} is missing: run makemessages -l en in src/tucai"
    return [e for e in parse_po(PO.read_text(encoding="utf-8")) if e.msgid and not e.obsolete]


def where(e: Entry) -> str:
    return f"django.po:{e.line} {e.msgid!r} ({', '.join(e.refs[:2])})"


def placeholders(s: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(s.replace("%%", "")))


# --- the parser itself ------------------------------------------------------------------------

def test_parser_reads_plurals_context_flags_and_continuations():
    text = (
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#: a.html:1\n#, fuzzy, python-format\nmsgctxt "ctx"\nmsgid "共 %(n)s 人"\n'
        'msgid_plural "共 %(n)s 人"\nmsgstr[0] "%(n)s "\n"student"\nmsgstr[1] ""\n\n'
        '#~ msgid "旧"\n#~ msgstr "old"\n'
    )
    header, plural, old = parse_po(text)
    assert header.msgid == "" and header.msgstr[0] == "Language: en\n"
    assert plural.msgctxt == "ctx" and plural.msgid_plural == "共 %(n)s 人"
    assert plural.msgstr == {0: "%(n)s student", 1: ""}
    assert {"fuzzy", "python-format"} <= plural.flags and plural.refs == ["a.html:1"]
    assert old.obsolete
    assert placeholders("%(a)s, %d and 100%% of %(b).1f") == ["%(a)s", "%(b).1f", "%d"]


# --- the catalogue ----------------------------------------------------------------------------

def test_catalogue_is_english_with_plural_forms():
    header = parse_po(PO.read_text(encoding="utf-8"))[0]
    assert header.msgid == ""
    meta = header.msgstr[0]
    assert "Language: en\n" in meta
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in meta
    assert "charset=UTF-8" in meta


def test_catalogue_is_not_trivially_small(catalogue):
    # Guards against an empty or truncated makemessages run passing the checks below.
    assert len(catalogue) > 100
    ids = {e.msgid for e in catalogue}
    assert {"采集码", "拍摄序号", "学号", "证件号码", "登录"} <= ids


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    fuzzy = [where(e) for e in catalogue if "fuzzy" in e.flags]
    untranslated = [where(e) for e in catalogue
                    if not e.msgstr or any(not v.strip() for v in e.msgstr.values())
                    or (e.msgid_plural is not None and sorted(e.msgstr) != [0, 1])]
    assert not fuzzy, "fuzzy entries:\n" + "\n".join(fuzzy)
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)


def test_translations_are_english_not_copied_chinese(catalogue):
    # A msgstr that still holds Chinese is usually a copy of the msgid. The import help lists
    # the Chinese column names a roster file may use, and language names stay in their own script.
    allowed = {"简体中文"}
    leaks = [where(e) for e in catalogue if e.msgid not in allowed
             and any(CJK.search(v) for v in e.msgstr.values()) and "可识别的列名" not in e.msgid
             and not e.msgid.startswith("学号；姓名；")]
    assert not leaks, "msgstr with Chinese text:\n" + "\n".join(leaks)


def test_placeholders_survive_translation(catalogue):
    bad = []
    for e in catalogue:
        wanted = placeholders(e.msgid)
        if e.msgid_plural is not None:
            assert placeholders(e.msgid_plural) == wanted, where(e)
        for i, s in e.msgstr.items():
            if placeholders(s) != wanted:
                bad.append(f"{where(e)} msgstr[{i}]={s!r}: {placeholders(s)} != {wanted}")
    assert not bad, "placeholder mismatch:\n" + "\n".join(bad)


def test_compiled_mo_matches_the_po(catalogue):
    """The committed .mo is what Django loads: it must hold exactly the .po's translations."""
    assert MO.exists(), "django.mo missing: run compilemessages and commit it"
    with MO.open("rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = []
    for e in catalogue:
        key = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            got = mo._catalog.get(key)
            if got != e.msgstr[0]:
                stale.append(f"{where(e)}: .mo has {got!r}")
        else:
            for i, s in e.msgstr.items():
                got = mo._catalog.get((key, i))
                if got != s:
                    stale.append(f"{where(e)} [{i}]: .mo has {got!r}")
    assert not stale, "django.mo is out of date (run compilemessages):\n" + "\n".join(stale[:20])


@pytest.mark.skipif(not (shutil.which("xgettext") and shutil.which("msguniq")), reason="gettext tools not installed")
def test_catalogue_covers_every_marked_string(tmp_path, settings, monkeypatch):
    """makemessages over a copy of the sources finds no msgid the catalogue lacks."""
    from django.core.management import call_command

    src = LOCALE.parent
    copy = tmp_path / "tucai"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("locale", "photo", "__pycache__", "static", "*.pyc"))
    settings.LOCALE_PATHS = [str(copy / "locale")]
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["en"], verbosity=0)
    fresh = parse_po((copy / "locale" / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8"))
    assert len(fresh) > 100  # the copy was really scanned
    have = {(e.msgctxt, e.msgid) for e in parse_po(PO.read_text(encoding="utf-8")) if not e.obsolete}
    new = sorted(f"{e.msgid!r} ({', '.join(e.refs[:2])})" for e in fresh
                 if e.msgid and (e.msgctxt, e.msgid) not in have)
    assert not new, ("strings marked for translation but missing from the catalogue "
                     "(cd src/tucai && django-admin makemessages -l en --ignore='photo/*'):\n" + "\n".join(new))


# --- pages in both languages -----------------------------------------------------------------

def html_lang(resp) -> str:
    m = re.search(r'<html lang="([^"]+)"', resp.content.decode())
    return m.group(1) if m else ""


def get(client, url: str, lang: str | None, how: str = "cookie"):
    from django.conf import settings

    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    if lang is None:
        return client.get(url)
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        return client.get(url)
    return client.get(url, HTTP_ACCEPT_LANGUAGE=lang)


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["cookie", "header"])
def test_login_page_in_english_and_chinese(client, how):
    zh = get(client, "/accounts/login/", None)
    assert zh.status_code == 200 and html_lang(zh) == "zh-hans"
    assert "<h1>登录</h1>" in zh.content.decode()

    en = get(client, "/accounts/login/", "en", how)
    body = en.content.decode()
    assert en.status_code == 200 and html_lang(en) == "en"
    assert "<h1>Sign in</h1>" in body and "· Tucai</title>" in body
    assert "登录" not in body


@pytest.mark.django_db
def test_language_switcher_posts_to_set_language(client):
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert r.status_code == 302 and r["Location"] == "/accounts/login/"
    body = client.get("/accounts/login/").content.decode()
    assert "<h1>Sign in</h1>" in body
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert "<h1>登录</h1>" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["cookie", "header"])
def test_campaign_page_for_office_user(client, campaign, office_user, make_student, how):
    make_student()
    client.force_login(office_user)
    url = f"/c/{campaign.code}/"

    zh = get(client, url, None).content.decode()
    assert "准备" in zh and "名单导入 / 导出" in zh and "拍摄当天" in zh

    en = get(client, url, "en", how).content.decode()
    for text in ("Preparation", "Roster import / export", "Schedule (time slots and rooms)",
                 "Capture codes (print / revoke / reissue)", "On the day", "Sign out"):
        assert text in en, text
    for text in ("准备", "名单导入", "拍摄当天", "退出"):
        assert text not in en, text


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["cookie", "header"])
def test_public_display_page(client, institution, how):
    from tucai.campaigns.models import Room

    room = Room.objects.create(institution=institution, building="实训楼", name="101")
    day = dt.date(2023, 3, 3).isoformat()
    page, board = f"/capture/display/{room.pk}/{day}/", f"/capture/display/{room.pk}/{day}/board/"

    zh = get(client, page, None).content.decode()
    assert "毕业生图像采集 · 叫号" in zh and "实训楼101" in zh
    assert "即将叫号" in get(client, board, None).content.decode()

    en = get(client, page, "en", how).content.decode()
    assert "Graduate photo capture · Call queue" in en and html_lang(get(client, page, "en", how)) == "en"
    assert "叫号" not in en
    en_board = get(client, board, "en", how).content.decode()
    assert "Up next" in en_board and "Nobody waiting" in en_board
    assert "即将叫号" not in en_board and "暂无等待" not in en_board


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["cookie", "header"])
def test_student_code_page(client, campaign, make_student, how):
    student = make_student()
    login_url, me_url = f"/capture/c/{campaign.code}/me/login/", f"/capture/c/{campaign.code}/me/"

    zh = get(client, login_url, None).content.decode()
    assert "查看我的采集码" in zh and "学号" in zh
    en = get(client, login_url, "en", how).content.decode()
    assert "Show my capture code" in en and "Student number" in en
    assert "Last six characters of your ID number" in en and "查看我的采集码" not in en

    r = client.post(login_url, {"student_no": student.student_no, "doc_tail": student.doc_number[-6:]})
    assert r.status_code == 302 and r["Location"] == me_url

    en = get(client, me_url, "en", how).content.decode()
    assert "My capture code" in en and "Show this code at check-in" in en
    assert "Not checked in yet" in en and "尚未签到" not in en
    zh = get(client, me_url, None).content.decode()
    assert "我的采集码" in zh and "尚未签到" in zh and "Not checked in yet" not in zh


@pytest.mark.django_db
def test_campaign_page_student_count_in_english(client, campaign, office_user, make_student):
    # One msgid used both with and without a count keeps only the plural entry: every use must count.
    make_student()
    make_student()
    client.force_login(office_user)
    en = get(client, f"/c/{campaign.code}/", "en").content.decode()
    assert "2 students" in en and "名学生" not in en


@pytest.mark.django_db
def test_plural_forms_follow_the_count():
    from django.template import Context, Template
    from django.utils import translation

    tpl = Template('{% load i18n %}{% blocktranslate count n=k %}共 {{ n }} 人{% plural %}共 {{ n }} 人'
                   '{% endblocktranslate %}')
    with translation.override("en"):
        assert tpl.render(Context({"k": 1})) == "1 student"
        assert tpl.render(Context({"k": 3})) == "3 students"
    with translation.override("zh-hans"):
        assert tpl.render(Context({"k": 3})) == "共 3 人"


@pytest.mark.django_db
def test_lazy_model_labels_follow_the_language():
    from django.utils import translation

    from tucai.campaigns.models import Student

    field = Student._meta.get_field("student_no")
    with translation.override("en"):
        assert str(field.verbose_name) == "Student number"
        assert str(Student._meta.verbose_name) == "Student"
    with translation.override("zh-hans"):
        assert str(field.verbose_name) == "学号"


def test_favicon_is_served(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r["Location"].endswith(".svg")
    assert 'rel="icon"' in client.get("/accounts/login/").content.decode()
