"""The record books — "二图、三表、四本" of seed 001 — as views of the records already entered
(一次录入、多处复用): nobody types a book; each is assembled from plans, records, attendance and
the roster, shown as a page and printed as .docx or PDF (exports.py) from the same structure.

This module builds four of the set, the ones organisational life feeds:
- 党员分布状况图 (member distribution chart), drawn as a table of party groups and their members;
- 支部活动计划安排表 (activity plan table): the year's filed plans, each line with whether it was held;
- 支部书记工作计划记录本 (secretary's work-plan record book): the year's plans and every meeting
  record of the branch with attendance, absentees and reasons, minutes and resolutions;
- 党小组活动记录本 (party-group activity book): the same for each party group's meetings.
The others (责任网络图, 责任区登记考核表, 目标考核评价表, 考核专项记录本, 群团工作记录本) belong to
the objectives, assessment and mass-work capabilities; the index page names them as such.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pbqms import scope
from pbqms.core import clock
from pbqms.members.models import CommitteeRole, CommitteeRoleKind, MemberState, PartyStatus
from pbqms.orgs.models import Unit, UnitKind

from . import selectors
from .models import ActivityKind, ActivityRecord, PlanStatus

PARTY = (PartyStatus.FULL, PartyStatus.PROBATIONARY)


@dataclass
class Table:
    heads: list[str]
    rows: list[list[str]]
    widths: list[float]  # centimetres on an A4 page (the .docx uses them; HTML and PDF spread by ratio)

    @property
    def head_cells(self) -> list[tuple[str, str]]:
        """Each heading with its share of the width, for HTML."""
        total = sum(self.widths) or 1
        return [(h, f"{100 * w / total:.1f}%") for h, w in zip(self.heads, self.widths, strict=False)]


@dataclass
class Section:
    heading: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    table: Table | None = None
    texts: list[tuple[str, str]] = field(default_factory=list)  # labelled paragraphs: minutes, resolutions
    new_page: bool = False


@dataclass
class Book:
    key: str
    title: str
    unit: Unit
    year: int | None
    subtitle: str
    sections: list[Section]
    empty: str = ""  # what the book says when there is nothing to show


@dataclass(frozen=True)
class Kind:
    key: str
    title: Any
    about: Any
    units: tuple[str, ...]
    yearly: bool = True


KINDS = [
    Kind("distribution", gettext_lazy("Member distribution chart"),
         gettext_lazy("The party groups of the branch and the members in each, with their party status."),
         (UnitKind.BRANCH, UnitKind.GROUP), yearly=False),
    Kind("plan-table", gettext_lazy("Activity plan table"),
         gettext_lazy("Every plan filed for the year, each line with whether it was held."),
         (UnitKind.BRANCH, UnitKind.GROUP)),
    Kind("excellence", gettext_lazy("Striving-for-excellence activity plan table"),
         gettext_lazy("The year's special activities to strive for excellence (theme party days and other "
                      "special activities), each with who leads it and whether it was carried out."),
         (UnitKind.BRANCH,)),
    Kind("branch-book", gettext_lazy("Secretary's work-plan record book"),
         gettext_lazy("The year's plans and every meeting of the branch: time, place, host, attendance, "
                      "absentees and reasons, minutes and resolutions."),
         (UnitKind.BRANCH,)),
    Kind("group-book", gettext_lazy("Party group activity book"),
         gettext_lazy("Each party group's meetings of the year, recorded the same way."),
         (UnitKind.BRANCH, UnitKind.GROUP)),
]
BY_KEY = {k.key: k for k in KINDS}
# The rest of "二图、三表、四本", kept by other capabilities.
ELSEWHERE = [
    gettext_lazy("Responsibility network chart of party-building objectives"),
    gettext_lazy("Register of members' responsibility areas"),
    gettext_lazy("Member target evaluation table"),
    gettext_lazy("Quality-objective assessment record book"),
    gettext_lazy("Mass-organisation work book"),
]


def day(d: dt.date | None) -> str:
    """2026年5月12日 in Chinese, 2026-05-12 otherwise."""
    if d is None:
        return ""
    if (translation.get_language() or "").startswith("zh"):
        return f"{d.year}年{d.month}月{d.day}日"
    return d.isoformat()


def available(unit: Unit) -> list[Kind]:
    return [k for k in KINDS if unit.kind in k.units]


def build(user: Any, unit: Unit, key: str, year: int) -> Book:
    """The book `key` of `unit` for `year`, from what the user may read."""
    kind = BY_KEY.get(key)
    if kind is None or unit.kind not in kind.units:
        raise Http404
    builder = {"distribution": _distribution, "plan-table": _plan_table, "branch-book": _branch_book,
               "group-book": _group_book, "excellence": _excellence}[key]
    return builder(user, unit, year)


# ---- helpers ---------------------------------------------------------------------------------

def _person(m: Any) -> str:
    return m.name if m is not None else ""


def _rate(r: ActivityRecord) -> str:
    return f"{float(r.attendance_rate):g}%" if r.expected else "—"


def _overview(recs: list[ActivityRecord]) -> Table:
    return Table([_("Seq"), _("Date"), _("Activity"), _("Topic"), _("Expected"), _("Present"), _("Rate")],
                 [[str(i), day(r.held_on), r.get_kind_display(), r.topic, str(r.expected), str(r.present), _rate(r)]
                  for i, r in enumerate(recs, 1)],
                 [1.0, 3.0, 3.0, 6.0, 1.3, 1.3, 1.4])


def _record_sections(recs: list[ActivityRecord]) -> list[Section]:
    out = []
    for r in recs:
        rows = list(r.attendance.all())
        absent = [a for a in rows if not a.present]
        present = [a.member.name for a in rows if a.present and a.counted]
        guests = [a.member.name for a in rows if not a.counted]
        facts = [
            (_("Date and time"), day(r.held_on) + (f" {r.start_time:%H:%M}" if r.start_time else "")),
            (_("Place"), r.place or "—"),
            (_("Host"), _person(r.host) or "—"),
            (_("Recorder"), _person(r.recorder) or "—"),
        ]
        if r.kind == ActivityKind.HEART_TALK:  # participants only: nobody is absent from a talk
            facts.append((_("Participants"), "、".join(present) or "—"))
        else:
            facts += [
                (_("Attendance"), _("%(present)d of %(expected)d present (%(rate)s)") % {
                    "present": r.present, "expected": r.expected, "rate": _rate(r)}),
                (_("Present"), "、".join(present) or "—"),
                (_("Absent (reason)"), "；".join(f"{a.member.name}（{a.absence_reason}）" for a in absent)
                 or _("none")),
            ]
            if guests:
                facts.append((_("Attending without a vote"), "、".join(guests)))
        files = [f.original_name for f in r.files.all()]
        if files:
            facts.append((_("Photos and attachments"), "；".join(files)))
        out.append(Section(f"{day(r.held_on)} {r.get_kind_display()}：{r.topic}", facts=facts,
                           texts=[(_("Minutes"), r.minutes or "—"), (_("Resolutions"), r.resolutions or "—")]))
    return out


def _records(user: Any, unit_ids: list[int], year: int) -> list[ActivityRecord]:
    start, end = selectors.year_bounds(year)
    return list(selectors.records(user).filter(unit_id__in=unit_ids, held_on__gte=start, held_on__lte=end)
                .select_related("host", "recorder")
                .prefetch_related("attendance__member", "files").order_by("held_on", "start_time", "id"))


def _secretary(unit: Unit) -> str:
    post = (CommitteeRole.objects.filter(unit=unit, role=CommitteeRoleKind.SECRETARY, ended_on__isnull=True)
            .select_related("member").first())
    return post.member.name if post else "—"


def _groups(user: Any, unit: Unit) -> list[Unit]:
    if unit.kind == UnitKind.GROUP:
        return [unit]
    return [u for u in selectors.life_units(user, unit) if u.kind == UnitKind.GROUP]


# ---- the four books --------------------------------------------------------------------------

def _distribution(user: Any, unit: Unit, year: int) -> Book:
    groups = _groups(user, unit)
    branch = unit if unit.kind == UnitKind.BRANCH else unit.parent
    people = scope.members(user).filter(state=MemberState.ACTIVE, status__in=PARTY)
    people = people.filter(group=unit) if unit.kind == UnitKind.GROUP else people.filter(unit=unit)
    people_list = list(people.order_by("name_pinyin", "pk"))
    leaders = {p.unit_id: p.member.name for p in CommitteeRole.objects.filter(
        unit__in=groups, role=CommitteeRoleKind.GROUP_LEADER, ended_on__isnull=True).select_related("member")}
    by_group: dict[int | None, list[Any]] = {}
    for m in people_list:
        by_group.setdefault(m.group_id if m.group_id in {g.pk for g in groups} else None, []).append(m)
    summary = []
    for g in groups:
        ms = by_group.get(g.pk, [])
        summary.append([g.name, leaders.get(g.pk, "—"), str(len(ms)),
                        str(sum(1 for m in ms if m.status == PartyStatus.FULL)),
                        str(sum(1 for m in ms if m.status == PartyStatus.PROBATIONARY))])
    loose = by_group.get(None, [])
    if unit.kind == UnitKind.BRANCH and loose:
        summary.append([_("Not in a party group"), "—", str(len(loose)),
                        str(sum(1 for m in loose if m.status == PartyStatus.FULL)),
                        str(sum(1 for m in loose if m.status == PartyStatus.PROBATIONARY))])
    sections = [Section(_("Overview"), facts=[
        (_("Branch"), branch.name if branch else unit.name), (_("Party members"), str(len(people_list))),
        (_("Party groups"), str(len(groups)))],
        table=Table([_("Party group"), _("Group leader"), _("Members"), _("Full"), _("Probationary")], summary,
                    [5.0, 3.0, 2.2, 2.2, 2.2]))]
    shown: list[Unit | None] = list(groups) + ([None] if unit.kind == UnitKind.BRANCH and loose else [])
    for grp in shown:
        ms = by_group.get(grp.pk if grp else None, [])
        title = grp.name if grp else _("Not in a party group")
        sections.append(Section(title, facts=[(_("Group leader"), leaders.get(grp.pk, "—"))] if grp else [],
                                table=Table([_("Seq"), _("Name"), _("Gender"), _("Party status"), _("Post"),
                                             _("Joined the party")],
                                            [[str(i), m.name, m.get_gender_display(), m.get_status_display(),
                                              m.post or "—", day(m.joined_on) or "—"] for i, m in enumerate(ms, 1)],
                                            [1.0, 2.6, 1.4, 2.4, 4.6, 3.0])))
    return Book("distribution", str(BY_KEY["distribution"].title), unit, None,
                _("As of %(date)s") % {"date": day(clock.today())}, sections,
                empty=_("No party members are registered in this unit yet."))


def match_held(items: list[Any], recs: list[ActivityRecord]) -> dict[int, ActivityRecord]:
    """Each planned line with the first record of its unit and kind inside its plan's period not
    already matched to an earlier line."""
    used: set[int] = set()
    out: dict[int, ActivityRecord] = {}
    for item in items:
        plan = item.plan
        for r in recs:
            if (r.pk not in used and r.unit_id == plan.unit_id and r.kind == item.kind
                    and plan.period_start <= r.held_on <= plan.period_end):
                used.add(r.pk)
                out[item.pk] = r
                break
    return out


def _plan_table(user: Any, unit: Unit, year: int) -> Book:
    units = selectors.life_units(user, unit)
    plans = list(selectors.plan_list(user, year=year).filter(unit_id__in=[u.pk for u in units])
                 .order_by("period_start", "org_path", "id"))
    names = {u.pk: u.name for u in units}
    start, end = selectors.year_bounds(year)
    recs = list(selectors.records(user).filter(unit_id__in=list(names), held_on__gte=start, held_on__lte=end)
                .order_by("held_on", "id"))
    today = clock.today()
    sections = []
    for plan in plans:
        items = list(plan.items.all())
        for i in items:
            i.plan = plan
        held = match_held(items, recs)
        rows = []
        for n, i in enumerate(items, 1):
            r = held.get(i.pk)
            done = _("held on %(date)s") % {"date": day(r.held_on)} if r else (
                _("not held") if plan.period_end < today else _("to come"))
            rows.append([str(n), day(i.planned_on) + (_(" (filed late)") if i.late else ""), i.get_kind_display(),
                         i.topic, done])
        facts = [(_("Filed"), f"{day(plan.submitted_at.date())} {plan.submitted_by or ''}".strip()),
                 (_("Review"), plan.comment if plan.status == PlanStatus.REVIEWED else _("not yet reviewed"))]
        sections.append(Section(f"{names.get(plan.unit_id, '')} {plan.period}", facts=facts,
                                table=Table([_("Seq"), _("Planned date"), _("Activity"), _("Topic"), _("Carried out")],
                                            rows, [1.0, 3.2, 3.2, 6.2, 3.4])))
    return Book("plan-table", str(BY_KEY["plan-table"].title), unit, year,
                _("Year %(year)s") % {"year": year}, sections, empty=_("No plan was filed for this year."))


def _branch_book(user: Any, unit: Unit, year: int) -> Book:
    recs = _records(user, [unit.pk], year)
    plan_book = _plan_table(user, unit, year)
    sections = [Section(_("Overview"), facts=[
        (_("Branch"), unit.name), (_("Secretary"), _secretary(unit)), (_("Year"), str(year)),
        (_("Meetings and activities recorded"), str(len(recs)))], table=_overview(recs))]
    if plan_book.sections:
        sections.append(Section(_("Work plans"), new_page=True))
        sections += plan_book.sections
    recorded = _record_sections(recs)
    if recorded:
        recorded[0].new_page = True
    sections += recorded
    return Book("branch-book", str(BY_KEY["branch-book"].title), unit, year,
                _("Year %(year)s") % {"year": year}, sections if recs or plan_book.sections else [],
                empty=_("Nothing was recorded for this year."))


def _group_book(user: Any, unit: Unit, year: int) -> Book:
    groups = _groups(user, unit)
    recs = _records(user, [g.pk for g in groups], year)
    sections: list[Section] = []
    for g in groups:
        mine = [r for r in recs if r.unit_id == g.pk]
        sections.append(Section(g.name, facts=[(_("Meetings and activities recorded"), str(len(mine)))],
                                table=_overview(mine), new_page=bool(sections)))
        sections += _record_sections(mine)
    return Book("group-book", str(BY_KEY["group-book"].title), unit, year,
                _("Year %(year)s") % {"year": year}, sections if recs else [],
                empty=_("No party group meeting was recorded for this year."))


# 支部“创先争优”特色活动计划安排表 (#22.11): one of the "三表", not the plan list: one table for the
# year of the special activities only (theme party days and other activities the branch plans to
# strive for excellence), each with the one who leads it and how it was carried out.
EXCELLENCE_KINDS = ("theme_day", "other")


def _excellence(user: Any, unit: Unit, year: int) -> Book:
    plans = list(selectors.plan_list(user, year=year).filter(unit_id=unit.pk).order_by("period_start", "id"))
    items = [i for p in plans for i in p.items.all() if i.kind in EXCELLENCE_KINDS]
    start, end = selectors.year_bounds(year)
    recs = list(selectors.records(user).filter(unit_id=unit.pk, held_on__gte=start, held_on__lte=end)
                .order_by("held_on", "id"))
    by_plan = {p.pk: p for p in plans}
    for i in items:
        i.plan = by_plan[i.plan_id]
    held = match_held(items, recs)
    today = clock.today()
    secretary = _secretary(unit)
    rows = []
    for n, i in enumerate(sorted(items, key=lambda i: (i.planned_on, i.pk)), 1):
        r = held.get(i.pk)
        done = (_("held on %(date)s") % {"date": day(r.held_on)} + f"（{_rate(r)}）") if r else (
            _("not held") if i.plan.period_end < today else _("to come"))
        rows.append([str(n), day(i.planned_on), i.topic, i.get_kind_display(), secretary or "—", done])
    facts = [(_("Branch"), unit.name), (_("Secretary"), secretary or "—"), (_("Year"), str(year)),
             (_("Special activities planned"), str(len(rows)))]
    table = Table([_("Seq"), _("Planned date"), _("Topic"), _("Activity"), _("Led by"), _("Carried out")],
                  rows, [1.0, 3.0, 5.6, 2.8, 1.8, 3.4])
    return Book("excellence", str(BY_KEY["excellence"].title), unit, year, _("Year %(year)s") % {"year": year},
                [Section(str(BY_KEY["excellence"].title), facts=facts, table=table)] if rows else [],
                empty=_("No special activity was planned for this year."))

