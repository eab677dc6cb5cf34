"""Identity-document numbers in a roster: validation, normalisation, gender and birth date.

Rules (see DOMAIN.md "Identity numbers"):

* 居民身份证 (GB 11643-1999): 6-digit area, 8-digit birth date, 3-digit sequence (odd = male),
  check character by ISO 7064 MOD 11-2 ("10X98765432"). Lowercase x is accepted and stored as X.
* 港澳台居民居住证: the same 18-character layout with area 810000 / 820000 / 830000.
* 外国人永久居留身份证 (2023 card): 18 characters starting with 9, same birth date place and check.
* 港澳居民来往内地通行证: H or M + 8 digits; 台湾居民来往大陆通行证: 8 digits; 护照: pattern only.

Pure Python, no database: the roster import calls :func:`idnumber_parse` tens of thousands of times.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from tucai.campaigns.models import DocumentType, Gender
from tucai.core.errors import TucaiError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

# First two digits of mainland area codes (GB/T 2260 provinces) plus 71 (台湾, printed on some cards).
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
})
HMT_AREAS = frozenset({"810000", "820000", "830000"})
EARLIEST_BIRTH = dt.date(1850, 1, 1)

_RE_18 = re.compile(r"^\d{17}[\dX]$")
_RE_HM_TRAVEL = re.compile(r"^[HM]\d{8}(\d{2})?$")  # 8 digits; the old booklet had 10
_RE_TW_TRAVEL = re.compile(r"^\d{8}$")
_RE_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
# Full-width digits/letters (what some Chinese input methods type) → ASCII; spaces and dashes out.
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_STRIP = re.compile(r"[\s\u3000\-]+")

LABELS: dict[str, tuple[str, str]] = {
    DocumentType.RESIDENT_ID: ("居民身份证号码", "resident ID number"),
    DocumentType.HK_MO_TW_PERMIT: ("港澳台居民居住证号码", "HK/Macao/Taiwan residence permit number"),
    DocumentType.FOREIGN_PR: ("外国人永久居留身份证号码", "foreign permanent resident ID number"),
    DocumentType.HK_MO_TRAVEL: ("港澳居民来往内地通行证号码", "HK/Macao travel permit number"),
    DocumentType.TW_TRAVEL: ("台湾居民来往大陆通行证号码", "Taiwan travel permit number"),
    DocumentType.PASSPORT: ("护照号码", "passport number"),
}



def _label_key(value: str) -> str:
    return re.sub(r"[\s_\-()（）·.]+", "", value).lower()


# What people write in the 证件类型 column, keyed by :func:`_label_key`.
DOC_TYPE_ALIASES: dict[str, str] = {}
for _doc_type, _names in {
    DocumentType.RESIDENT_ID: ["居民身份证", "身份证", "二代身份证", "第二代居民身份证", "中华人民共和国居民身份证",
                               "大陆居民身份证", "内地居民身份证", "resident_id", "residentid", "idcard", "id",
                               "residentidcard", "chineseidcard"],
    DocumentType.HK_MO_TW_PERMIT: ["港澳台居民居住证", "港澳居民居住证", "台湾居民居住证", "香港居民居住证",
                                   "澳门居民居住证", "hmt_residence", "residencepermit"],
    DocumentType.FOREIGN_PR: ["外国人永久居留身份证", "外国人永久居留证", "永久居留身份证", "永居证", "foreign_pr",
                              "permanentresidentcard", "foreignpermanentresidentidcard"],
    DocumentType.HK_MO_TRAVEL: ["港澳居民来往内地通行证", "港澳居民往来内地通行证", "回乡证", "港澳居民通行证",
                                "hm_travel", "homereturnpermit"],
    DocumentType.TW_TRAVEL: ["台湾居民来往大陆通行证", "台湾居民往来大陆通行证", "台胞证", "tw_travel",
                             "taiwancompatriotpermit", "mtp"],
    DocumentType.PASSPORT: ["护照", "外国护照", "中国护照", "passport"],
}.items():
    for _name in [*_names, str(DocumentType(_doc_type).label), str(_doc_type)]:
        DOC_TYPE_ALIASES[_label_key(_name)] = _doc_type


@dataclass(frozen=True, slots=True)
class IdInfo:
    doc_type: str
    number: str                 # normalised
    gender: str | None = None   # Gender.MALE / FEMALE where the number says it
    birth_date: dt.date | None = None


def doc_type_from_label(*, label: str | None, number: str = "") -> str:
    """The DocumentType for what a roster says in 证件类型; blank means "guess from the number"."""
    text = (label or "").strip()
    if not text:
        return doc_type_guess(number=number)
    key = _label_key(text)
    found = DOC_TYPE_ALIASES.get(key)
    if found is None:
        raise TucaiError("id.unknown_type", f"未知的证件类型“{text}”", f"Unknown document type {text!r}",
                         details={"value": text})
    return found


def doc_type_guess(*, number: str) -> str:
    """Document type from the shape of the number alone (for rosters without a 证件类型 column)."""
    n = idnumber_normalise(number)
    if len(n) == 18:
        if n[:6] in HMT_AREAS:
            return DocumentType.HK_MO_TW_PERMIT
        if n[0] == "9":
            return DocumentType.FOREIGN_PR
        return DocumentType.RESIDENT_ID
    if _RE_HM_TRAVEL.match(n):
        return DocumentType.HK_MO_TRAVEL
    if _RE_TW_TRAVEL.match(n):
        return DocumentType.TW_TRAVEL
    return DocumentType.RESIDENT_ID  # the usual case: its rules give the clearest error


def idnumber_normalise(number) -> str:
    """Upper-case, ASCII, no spaces or dashes; Excel's numeric cells become digit strings."""
    if number is None:
        return ""
    if isinstance(number, float):
        number = str(int(number)) if number.is_integer() else str(number)
    elif not isinstance(number, str):
        number = str(number)
    return _STRIP.sub("", number.translate(_FULLWIDTH)).upper()


def check_char(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(body17, WEIGHTS)) % 11]


def _err(code: str, doc_type: str, number: str, zh: str, en: str) -> TucaiError:
    label_zh, label_en = LABELS[doc_type]
    return TucaiError(code, f"{label_zh}{zh}", f"{label_en} {en}", details={"value": number, "doc_type": doc_type})


def _parse_18(doc_type: str, n: str, today: dt.date) -> IdInfo:
    if not _RE_18.match(n):
        raise _err("id.format", doc_type, n, "应为18位：17位数字加1位校验码（数字或X）",
                   "must be 18 characters: 17 digits and a check character (digit or X)")
    if doc_type == DocumentType.RESIDENT_ID:
        if n[:2] not in PROVINCES or n[:6] in HMT_AREAS:
            raise _err("id.area", doc_type, n, f"的地址码“{n[:6]}”无效", f"has an invalid area code {n[:6]}")
    elif doc_type == DocumentType.HK_MO_TW_PERMIT:
        if n[:6] not in HMT_AREAS:
            raise _err("id.area", doc_type, n, "应以810000（香港）、820000（澳门）或830000（台湾）开头",
                       "must start with 810000 (HK), 820000 (Macao) or 830000 (Taiwan)")
    elif n[0] != "9":
        raise _err("id.format", doc_type, n, "应以9开头", "must start with 9")
    try:
        birth = dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        raise _err("id.birth_date", doc_type, n, f"中的出生日期“{n[6:14]}”不存在",
                   f"contains a birth date that does not exist ({n[6:14]})") from None
    if birth > today or birth < EARLIEST_BIRTH:
        raise _err("id.birth_date", doc_type, n, f"中的出生日期“{birth:%Y-%m-%d}”不可能",
                   f"contains an impossible birth date ({birth:%Y-%m-%d})")
    expected = check_char(n[:17])
    if n[17] != expected:
        raise _err("id.check_digit", doc_type, n, "校验码错误（请核对是否输错）",
                   "has a wrong check character (mistyped?)")
    return IdInfo(doc_type, n, Gender.MALE.value if int(n[16]) % 2 else Gender.FEMALE.value, birth)


def idnumber_parse(*, doc_type: str, number, today: dt.date | None = None) -> IdInfo:
    """Validate ``number`` as a document of ``doc_type``; raises TucaiError ``id.*`` when it is not."""
    n = idnumber_normalise(number)
    if doc_type not in LABELS:
        raise TucaiError("id.unknown_type", f"未知的证件类型“{doc_type}”", f"Unknown document type {doc_type!r}",
                         details={"value": doc_type})
    if not n:
        raise _err("id.required", doc_type, n, "不能为空", "is required")
    if doc_type in (DocumentType.RESIDENT_ID, DocumentType.HK_MO_TW_PERMIT, DocumentType.FOREIGN_PR):
        return _parse_18(doc_type, n, today or dt.date.today())
    if doc_type == DocumentType.HK_MO_TRAVEL:
        if not _RE_HM_TRAVEL.match(n):
            raise _err("id.format", doc_type, n, "应为H或M加8位数字", "must be H or M followed by 8 digits")
    elif doc_type == DocumentType.TW_TRAVEL:
        if not _RE_TW_TRAVEL.match(n):
            raise _err("id.format", doc_type, n, "应为8位数字", "must be 8 digits")
    elif not _RE_PASSPORT.match(n):
        raise _err("id.format", doc_type, n, "应为5–20位字母或数字", "must be 5–20 letters or digits")
    return IdInfo(doc_type, n)


def idnumber_validate(*, doc_type: str, number, today: dt.date | None = None) -> str:
    """The normalised number, or TucaiError (``id.format``, ``id.area``, ``id.birth_date``, ``id.check_digit``...)."""
    return idnumber_parse(doc_type=doc_type, number=number, today=today).number


def gender_from_number(*, doc_type: str, number: str) -> str | None:
    """Gender from the sequence digit (odd = male) for the 18-character documents; None otherwise."""
    n = idnumber_normalise(number)
    if doc_type in (DocumentType.RESIDENT_ID, DocumentType.HK_MO_TW_PERMIT, DocumentType.FOREIGN_PR) \
            and len(n) == 18 and n[16].isdigit():
        return Gender.MALE.value if int(n[16]) % 2 else Gender.FEMALE.value
    return None
