"""A year of organisational life for the demo mine (钱营孜矿): 三会一课, theme days, talks, appraisal.

Most branches keep the rules; a few slip (B07 skips two committee meetings, B05 a theme day,
B09's secretary never lectures, B10 holds no assembly in the third quarter, one group of B03
misses its meetings), so the heat map, the reminders and the findings have something to show.
Records go in through services.record_many (checked like any record) and the nightly run then
evaluates the year, warns and raises findings, as it would each night.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from pbqms.accounts.models import User
from pbqms.core import clock
from pbqms.members.models import CommitteeRole, CommitteeRoleKind
from pbqms.orgs.models import Unit, UnitKind

from . import services
from .models import ActivityKind

TOPICS = {
    ActivityKind.COMMITTEE_MEETING: ["研究本月党建工作安排", "讨论发展党员工作", "研究安全生产中的党员作用发挥",
                                     "部署主题党日活动", "研究困难职工帮扶事项", "分析党员思想动态"],
    ActivityKind.THEME_DAY: ["重温入党誓词", "党员志愿服务进社区", "安全隐患排查党员先锋行动",
                             "学习党章党规", "参观廉政教育基地", "党员责任区巡查"],
    ActivityKind.GROUP_MEETING: ["学习上级文件精神", "交流岗位安全经验", "党员责任区工作讲评", "开展批评和自我批评"],
    ActivityKind.BRANCH_ASSEMBLY: ["通报季度支部工作", "讨论接收预备党员", "学习贯彻上级党委决议"],
    ActivityKind.PARTY_LECTURE: ["党章专题党课", "弘扬劳模精神党课", "党风廉政建设专题党课", "安全生产与党员担当"],
    ActivityKind.LIFE_MEETING: ["年度组织生活会"],
    ActivityKind.DEMOCRATIC_REVIEW: ["年度民主评议党员"],
    ActivityKind.HEART_TALK: ["支委与党员谈心谈话"],
}
REASONS = ["井下当班", "病假", "外出培训", "事假", "公休"]
PLACES = ["区队会议室", "党员活动室", "矿调度会议室", "职工之家"]


def build(log: Callable[[str], None] = print) -> None:
    rng = random.Random(20260105)
    today = clock.today()
    year = today.year
    admin = User.objects.get(username="admin")
    branches = list(Unit.objects.filter(kind=UnitKind.BRANCH, code__regex=r"^B\d\d$").order_by("code"))
    secretaries = {r.unit_id: r.member for r in CommitteeRole.objects.filter(
        role=CommitteeRoleKind.SECRETARY, ended_on__isnull=True, unit__in=branches).select_related("member")}
    items: list[services.RecordInput] = []

    def add(unit: Unit, kind: str, day: dt.date, host: object = None, topic: str | None = None,
            talk_with: object = None) -> None:
        if day > today:
            return
        roster = services.roster_for(unit, kind, day)  # a committee meeting: the committee serving that day
        people = roster.expected or roster.others
        if not people:
            return
        attendance = {}
        if talk_with is not None:  # a talk: the one member talked with
            attendance[talk_with.pk] = services.Presence(True)  # type: ignore[attr-defined]
        for m in roster.expected:
            present = rng.random() > 0.08
            attendance[m.pk] = services.Presence(present, "" if present else rng.choice(REASONS))
        items.append(services.RecordInput(
            unit=unit, kind=kind, held_on=day, topic=topic or rng.choice(TOPICS[kind]), place=rng.choice(PLACES),
            start_time=dt.time(rng.choice([8, 14, 16]), 30), host=host or people[0],  # type: ignore[arg-type]
            recorder=people[min(1, len(people) - 1)], attendance=attendance,
            minutes="会议由支部书记主持。与会党员围绕议题逐一发言，形成一致意见。",
            resolutions="按会议决定抓好落实，下月支委会听取落实情况汇报。"))

    last_month = today.month if today.day > 20 else today.month - 1
    for b in branches:
        code = b.code
        secretary = secretaries.get(b.pk)
        groups = list(Unit.objects.filter(parent=b, kind=UnitKind.GROUP).order_by("order"))
        for month in range(1, last_month + 1):
            base = dt.date(year, month, 1)
            if not (code == "B07" and month in (8, 10)):
                add(b, ActivityKind.COMMITTEE_MEETING, base + dt.timedelta(days=rng.randint(2, 12)), secretary)
            if not (code == "B05" and month == 8):
                add(b, ActivityKind.THEME_DAY, base + dt.timedelta(days=14 + rng.randint(0, 5)), secretary)
            for g in groups:
                if code == "B03" and g.order == 2 and month in (9, 10, 11):
                    continue
                add(g, ActivityKind.GROUP_MEETING, base + dt.timedelta(days=rng.randint(5, 20)))
            if month % 3 == 2:  # mid-quarter: the assembly and the lecture
                if not (code == "B10" and month == 8):
                    add(b, ActivityKind.BRANCH_ASSEMBLY, base + dt.timedelta(days=rng.randint(20, 25)), secretary)
                lecturer = secretary if (month == 5 and code != "B09") else None
                add(b, ActivityKind.PARTY_LECTURE, base + dt.timedelta(days=rng.randint(8, 11)), lecturer)
        if code not in ("B04", "B08", "B13"):  # the rest hold their yearly meetings in December
            add(b, ActivityKind.LIFE_MEETING, dt.date(year, 2, 26), secretary)
            add(b, ActivityKind.DEMOCRATIC_REVIEW, dt.date(year, 2, 27), secretary)
        # 谈心谈话: the secretary talks with members one by one on one day, a record per conversation
        members = [m for m in services.roster_of(b) if m != secretary]
        for m in rng.sample(members, min(4, len(members))):
            add(b, ActivityKind.HEART_TALK, dt.date(year, 3, 18), secretary, talk_with=m)
    plans = _file_plans(admin, items, today)
    with clock.as_of(today):
        records = services.record_many(admin, items)
        result = services.nightly()
    log(f"  activities: {plans} plans filed (B06 files its after the meetings: 补报)")
    log(f"  activities: {len(records)} records, {result['states']} states, {result['findings']} findings "
        f"from missed requirements, {result['reminders']} reminders")


PLANNED = (ActivityKind.COMMITTEE_MEETING, ActivityKind.THEME_DAY, ActivityKind.BRANCH_ASSEMBLY,
           ActivityKind.PARTY_LECTURE)


def _file_plans(admin: User, items: list[services.RecordInput], today: dt.date) -> int:
    """Each branch files its month's plan (活动计划报备) a few days before the month begins, the
    meetings it then holds on their days; B06 files its plans only after the meetings (补报)."""
    months: dict[tuple[Unit, dt.date], list[services.PlanItem]] = {}
    for it in items:
        if it.kind in PLANNED and it.unit.kind == UnitKind.BRANCH:
            months.setdefault((it.unit, it.held_on.replace(day=1)), []).append(
                services.PlanItem(it.kind, it.held_on, it.topic))
    for (unit, first), lines in sorted(months.items(), key=lambda kv: (kv[0][0].code, kv[0][1])):
        filed = first.replace(day=25) if unit.code == "B06" else first - dt.timedelta(days=3)
        with clock.as_of(min(filed, today)):
            services.file_plan(admin, unit=unit, period=f"{first:%Y-%m}", items=lines)
    return len(months)
