"""The roster workbook's format — 花名册格式: sheets, columns, accepted labels and cell parsing.

Headers, sheet names and enum labels are part of a file format, not page text: a file written
in one language must import in the other, whatever the translation catalogue says. So each
carries its English and its Chinese form here, and the import accepts both, the codes, and the
common spellings of the national member system's and HR exports (中共党员, 大学本科, …).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pbqms.core import text as core_text
from pbqms.members.models import Education, Gender, PartyStatus
from pbqms.orgs.models import BranchVariant, UnitKind


class CellError(ValueError):
    """A cell that cannot be read; the message is for the user."""


@dataclass(frozen=True)
class Column:
    key: str
    en: str
    zh: str
    aliases: tuple[str, ...] = ()
    width: int = 14
    text: bool = False  # formatted as text in the template (ID numbers, phones, codes)

    def header(self, lang: str | None = None) -> str:
        return self.zh if is_chinese(lang) else self.en


def is_chinese(lang: str | None = None) -> bool:
    return (lang or get_language() or "zh-hans").lower().startswith("zh")


# ---- sheets --------------------------------------------------------------------------------

SHEETS = {
    "units": ("Units", "党组织", ("组织", "组织机构", "units")),
    "members": ("Members", "党员", ("人员", "花名册", "党员花名册", "members")),
    "instructions": ("Instructions", "填写说明", ("说明",)),
}


def sheet_title(key: str, lang: str | None = None) -> str:
    en, zh, _aliases = SHEETS[key]
    return zh if is_chinese(lang) else en


def sheet_key(title: str) -> str | None:
    t = _norm(title)
    for key, (en, zh, aliases) in SHEETS.items():
        if t in {_norm(en), _norm(zh), *(_norm(a) for a in aliases)}:
            return key
    return None


# ---- columns -------------------------------------------------------------------------------

UNIT_COLUMNS = (
    Column("code", "Code", "组织编码", ("编码", "代码", "组织代码", "unit code"), 14, True),
    Column("name", "Name", "组织名称", ("名称", "党组织名称"), 28),
    Column("kind", "Kind", "组织类型", ("类型", "组织类别", "类别"), 12),
    Column("parent", "Parent code", "上级组织编码", ("上级编码", "上级组织代码", "parent"), 14, True),
    Column("variant", "Branch variant", "支部类别", ("variant", "支部类型"), 14),
    Column("order", "Order", "排序", ("显示顺序", "排列顺序"), 8),
    Column("founded_on", "Founding date", "成立日期", ("成立时间", "建立日期", "founded on"), 13),
    Column("department", "Department", "所属部门", ("部门", "单位部门", "所在部门"), 20),
)

MEMBER_COLUMNS = (
    Column("name", "Name", "姓名", (), 10),
    Column("gender", "Gender", "性别", ("sex",), 6),
    Column("ethnicity", "Ethnicity", "民族", (), 8),
    Column("birth_date", "Birth date", "出生日期", ("出生年月日", "birth"), 12),
    Column("education", "Education", "学历", ("文化程度", "最高学历"), 12),
    Column("id_number", "ID number", "身份证号", ("身份证号码", "公民身份号码", "身份证"), 21, True),
    Column("phone", "Phone", "手机", ("手机号", "手机号码", "联系电话", "电话"), 14, True),
    Column("post", "Post", "岗位", ("工作岗位", "职务", "岗位职务"), 16),
    Column("status", "Party status", "政治面貌", ("党员状态", "人员类别", "发展阶段"), 12),
    Column("status_date", "Status date", "当前状态日期", ("状态日期",), 13),
    Column("unit", "Unit code", "所在组织编码", ("所在支部编码", "支部编码", "组织编码", "所在党组织编码"), 14, True),
    Column("group", "Party group code", "党小组编码", ("所在党小组编码", "group code"), 14, True),
    Column("joined_on", "Joined the party on", "入党日期", ("入党时间", "joined on"), 13),
    Column("applicant_on", "Applied on", "申请入党日期", ("递交入党申请日期",), 13),
    Column("activist_on", "Activist since", "确定积极分子日期", ("列为入党积极分子日期", "积极分子日期"), 13),
    Column("candidate_on", "Development target since", "确定发展对象日期", ("列为发展对象日期",), 13),
    Column("probationary_on", "Probationary member since", "接收预备党员日期", ("预备党员日期",), 13),
    Column("record_id", "Record ID", "系统编号", ("编号", "id"), 10),
)

# Step-date columns, in the order of the development ladder.
STEP_COLUMNS: dict[str, str] = {
    "applicant_on": PartyStatus.APPLICANT,
    "activist_on": PartyStatus.ACTIVIST,
    "candidate_on": PartyStatus.CANDIDATE,
    "probationary_on": PartyStatus.PROBATIONARY,
}
STEP_COLUMN_OF: dict[str, str] = {v: k for k, v in STEP_COLUMNS.items()}

# Cells a new record needs (beyond those with their own rules).
UNIT_REQUIRED = ("code", "name", "kind")
MEMBER_REQUIRED = ("name", "gender", "status", "unit")


def _norm(text: Any) -> str:
    s = str(text or "").strip().lower()
    return re.sub(r"[\s*＊:：()（）_\-]", "", s)


def match_headers(columns: tuple[Column, ...], header_row: tuple[Any, ...]) -> tuple[dict[str, int], list[str]]:
    """{column key: index} for recognised headers, and the headers that were ignored."""
    lookup: dict[str, str] = {}
    for col in columns:
        for name in (col.key, col.en, col.zh, *col.aliases):
            lookup.setdefault(_norm(name), col.key)
        lookup.setdefault(_norm(_(col.en)), col.key)  # whatever the catalogue calls it
    found: dict[str, int] = {}
    ignored: list[str] = []
    for i, cell in enumerate(header_row):
        if cell is None or str(cell).strip() == "":
            continue
        key = lookup.get(_norm(cell))
        if key is None or key in found:
            ignored.append(str(cell).strip())
        else:
            found[key] = i
    return found, ignored


# ---- enumerations --------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    code: str
    zh: str  # what the template and export write in Chinese; first of the accepted labels
    en: str
    aliases: tuple[str, ...] = ()


KINDS = (
    Choice(UnitKind.COMMITTEE, "党委", "Party committee", ("基层党委", "党的基层委员会", "委员会")),
    Choice(UnitKind.GENERAL_BRANCH, "党总支", "General branch", ("总支", "党总支部")),
    Choice(UnitKind.BRANCH, "党支部", "Branch",
           ("支部", "联合党支部", "临时党支部", "joint branch", "temporary branch")),
    Choice(UnitKind.GROUP, "党小组", "Party group", ("小组",)),
)
# A kind cell may name a branch variant directly (联合党支部 = a joint branch).
KIND_IMPLIES_VARIANT = {"联合党支部": BranchVariant.JOINT, "临时党支部": BranchVariant.TEMPORARY,
                        "jointbranch": BranchVariant.JOINT, "temporarybranch": BranchVariant.TEMPORARY}
VARIANTS = (
    Choice(BranchVariant.REGULAR, "普通党支部", "Regular branch", ("普通", "一般", "一般党支部")),
    Choice(BranchVariant.JOINT, "联合党支部", "Joint branch", ("联合",)),
    Choice(BranchVariant.TEMPORARY, "临时党支部", "Temporary branch", ("临时",)),
)
GENDERS = (
    Choice(Gender.MALE, "男", "Male", ("男性", "m", "male")),
    Choice(Gender.FEMALE, "女", "Female", ("女性", "f", "female")),
)
STATUSES = (
    Choice(PartyStatus.APPLICANT, "申请人", "Applicant", ("入党申请人", "申请入党")),
    Choice(PartyStatus.ACTIVIST, "入党积极分子", "Activist", ("积极分子",)),
    Choice(PartyStatus.CANDIDATE, "发展对象", "Development target", ()),
    Choice(PartyStatus.PROBATIONARY, "预备党员", "Probationary member", ("中共预备党员",)),
    Choice(PartyStatus.FULL, "正式党员", "Full member", ("中共党员", "党员")),
    Choice(PartyStatus.MASSES, "群众", "The masses", ("masses",)),
)
EDUCATIONS = (
    Choice(Education.PRIMARY, "小学", "Primary school", ()),
    Choice(Education.JUNIOR, "初中", "Junior middle school", ()),
    Choice(Education.SENIOR, "高中/中专", "Senior middle school / technical school",
           ("高中", "中专", "中技", "技校", "职高", "高中中专")),
    Choice(Education.COLLEGE, "大专", "Junior college", ("大学专科", "专科")),
    Choice(Education.BACHELOR, "本科", "Bachelor", ("大学本科", "学士")),
    Choice(Education.MASTER, "硕士研究生", "Master", ("硕士", "研究生")),
    Choice(Education.DOCTOR, "博士研究生", "Doctorate", ("博士",)),
)


class Enum:
    """Reads a cell of one enumeration: code, Chinese or English label, or a known alias."""

    def __init__(self, choices: tuple[Choice, ...]):
        self.choices = choices
        self.lookup: dict[str, str] = {}
        for c in choices:
            for name in (c.code, c.zh, c.en, *c.aliases):
                self.lookup.setdefault(_norm(name), c.code)
                self.lookup.setdefault(name, c.code)
        self._by_code = {c.code: c for c in choices}

    def parse(self, value: Any) -> str:
        code = self.lookup.get(value) if type(value) is str else None  # the common case: exact label
        if code is not None:
            return code
        key = _norm(value)
        code = self.lookup.get(key)
        if code is None:
            translated = {_norm(_(c.en)): c.code for c in self.choices}
            code = translated.get(key)
        if code is None:
            raise CellError(_("“%(value)s” is not one of: %(choices)s.")
                            % {"value": value, "choices": "、".join(self.labels())})
        return code

    def label(self, code: str, lang: str | None = None) -> str:
        c = self._by_code.get(code)
        if c is None:
            return code
        return c.zh if is_chinese(lang) else c.en

    def labels(self, lang: str | None = None) -> list[str]:
        return [self.label(c.code, lang) for c in self.choices]


KIND = Enum(KINDS)
VARIANT = Enum(VARIANTS)
GENDER = Enum(GENDERS)
STATUS = Enum(STATUSES)
EDUCATION = Enum(EDUCATIONS)


# ---- cells ---------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def text(value: Any, max_length: int) -> str | None:
    """A text cell; None when empty."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()[:10]
    s = str(value).strip()
    if not s:
        return None
    if len(s) > max_length:
        raise CellError(_("The text is longer than %(n)s characters.") % {"n": max_length})
    return s


def text_parser(max_length: int) -> Any:
    def parse(value: Any) -> str | None:
        if type(value) is str:  # the common case, without text()'s conversions
            s = value.strip()
            if len(s) > max_length:
                raise CellError(_("The text is longer than %(n)s characters.") % {"n": max_length})
        else:
            s = text(value, max_length) or ""
        try:  # the one validator of user text (pbqms.core.text): no control or direction characters
            core_text.check(s, _("The text"), max_length=max_length)
        except ValidationError as err:
            raise CellError(err.messages[0])
        return None if core_text.is_blank(s) else s

    return parse


def digits_parser(max_length: int) -> Any:
    def parse(value: Any) -> str | None:
        return digits_text(value, max_length)

    return parse


def digits_text(value: Any, max_length: int) -> str | None:
    """A cell holding a long number as text (ID number, phone): refuses numbers that lost digits."""
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 1e15:
            raise CellError(_("The cell holds a number that lost digits; format the column as text "
                              "and type it again."))
        value = int(value)
    return text(value, max_length)


def date(value: Any) -> dt.date | None:
    if type(value) is dt.datetime:
        return value.date()
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value)) if float(value).is_integer() else str(value)
    s = str(value).strip()
    if not s:
        return None
    m = _DATE_RE.match(s) or _COMPACT_DATE_RE.match(s)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    raise CellError(_("“%(value)s” is not a date; write it as 2024-07-01.") % {"value": s})


def integer(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    s = str(value).strip()
    if s.isdigit():
        return int(s)
    raise CellError(_("“%(value)s” is not a whole number.") % {"value": s})
