"""A year of the rectification loop for the demo mine (钱营孜矿), laid down through the services.

Each month the party-work department (`assessor`) inspects a few branches (督查), records what it
finds against the assessment items, and issues a numbered notice; the branch secretaries
(`branch01` … `branch15`) receive and answer; the department verifies and closes, sometimes
returning a notice whose fix did not hold. Recent notices are left in every state: draft,
issued, received, answered, returned, overdue and escalated. Recurring items propose preventive
actions. Everything runs "as of" its own date (pbqms.core.clock), so steps carry real dates.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from pbqms.accounts.models import User
from pbqms.core import clock
from pbqms.orgs.models import Unit

from . import preventive, services
from .models import CauseCategory, Finding, FindingSource, Notice, PreventiveAction, PreventiveStatus
from .reminders import sweep_deadlines

# (item code, standard applied, what was found) — items of the mine's 六考一评 scheme in force
# (pbqms/assessment/fixtures/liukao.py; `build` checks every code is there). What is found is the
# work itself — a meeting not held, a record missing its decisions — never a count of photos or
# pages (减负: 不以照片、材料数量衡量工作).
ITEMS = [
    ("DJ03", "支委会每月至少召开一次，议题、决定有记录", "当月支委会记录缺失，未见会议签到表"),
    ("DJ03", "会议有记录，记录载明议题、讨论情况和决议", "党小组会记录要素缺项，未写明议题和决议"),
    ("DJ01", "党课每季度至少一次", "本季度未开展党课"),
    ("DJ12", "按月足额收缴党费，台账清楚", "党费收缴台账未按月登记，个别党员欠缴"),
    ("DJ09", "发展党员程序规范，材料齐全", "一名发展对象政审材料缺页，谈话记录未签字"),
    ("DJ05", "主题党日有当月方案，结合中心工作，记录参加人员和成效", "本月主题党日以一般性工作会议代替，无活动方案"),
    ("DJ10", "每月组织党员集中学习，有安排、有记录、有研讨", "学习计划未按月落实，集中学习无研讨记录"),
    ("XC04", "宣传报道按季度报送，数量达标", "本季度宣传稿件未按时报送"),
    ("DF01", "年初签订党风廉政建设责任书，责任分解到人", "两名区队管理人员未签订党风廉政建设责任书"),
    ("DF03", "岗位廉洁风险点每年排查更新", "岗位廉洁风险点排查表未更新"),
    ("XC10", "职工意见建议登记、交办、答复闭环", "职工通过“七彩心桥”反映的两条意见逾期未答复"),
    ("GQ04", "青年安全监督岗每月开展安全监督检查", "青年安全监督岗本月检查无记录"),
    ("ZA04", "民兵按计划参加训练", "本季度民兵训练记录缺失"),
]
# Visits of the previous calendar year fall under last year's scheme (seed 001's structure,
# pbqms/assessment/fixtures/dongli.py): the same problems, under that scheme's items.
LAST_YEAR = {"DJ03": "GZ05", "DJ01": "GZ05", "DJ12": "GZ04", "DJ09": "GZ10", "DJ05": "GZ07", "DJ10": "GZ10",
             "XC04": "GZ09", "DF01": "GZ12", "DF03": "GZ12", "XC10": "GZ09", "GQ04": "GZ11", "ZA04": "GZ11"}
CAUSES = [
    ("思想上重生产、轻党建，对基础资料管理重视不够",
     "支部书记组织支委重新学习考核细则，补齐记录，指定组织委员每月检查"),
    ("制度执行不严，记录由专人负责但未交接", "明确记录责任人和交接要求，建立月度自查清单"),
    ("对考核标准理解有偏差", "对照《党建作业指导书》逐条学习，按标准补充完善"),
    ("生产任务重，活动安排未提前计划", "将党建活动纳入月度生产计划统筹安排，提前报备"),
]


def _quarter(d: dt.date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def _check_items() -> None:
    """Every demo finding names an item of the mine's scheme (六考一评) by its real code."""
    from pbqms.assessment.fixtures import SCHEMES

    for scheme, used in (("liukao", {code for code, _s, _t in ITEMS}), ("dongli", set(LAST_YEAR.values()))):
        codes = {i["code"] for c in SCHEMES[scheme]["categories"] for i in c["items"]}
        missing = sorted(used - codes)
        assert not missing, f"demo findings name items the {scheme} scheme lacks: {missing}"


def build(log: Callable[[str], None] = print) -> None:
    _check_items()
    rng = random.Random(20260301)
    users = {u.username: u for u in User.objects.filter(username__startswith="branch")}
    assessor = User.objects.get(username="assessor")
    # B11 and B12 are the office branches the department and the auditor belong to: nobody inspects their own
    branches = list(Unit.objects.filter(code__regex=r"^B\d\d$").exclude(code__in=("B11", "B12")).order_by("code"))
    causes = list(CauseCategory.objects.order_by("order"))
    today = clock.today()
    start = today - dt.timedelta(days=335)
    mine = Unit.objects.get(code="QYZ")
    services.save_settings(User.objects.get(username="admin"), mine, number_pattern="钱矿党纠〔{year}〕{seq:03d}号",
                           reminder_days="3,1", escalate_after_days=3, recurrence_periods=2, recurrence_units=4,
                           preventive_days=30)
    notices = 0

    def secretary(unit: Unit) -> User:
        return users[f"branch{unit.code[1:]}"]

    def answer(notice: Notice, when: dt.date) -> None:
        with clock.as_of(when):
            owed = notice.findings.filter(status__in=("notified", "reopened"))
            given = {}
            for f in owed:
                cause, measures = rng.choice(CAUSES)
                given[f.pk] = services.Answer(cause_category=rng.choice(causes[:6]), cause=cause, measures=measures,
                                              completed_on=when - dt.timedelta(days=rng.randint(0, 3)))
            services.submit_feedback(secretary(notice.unit), notice, given)

    def verify_all(notice: Notice, when: dt.date, effective: bool = True) -> None:
        with clock.as_of(when):
            for f in notice.findings.filter(status="answered"):
                services.verify_finding(assessor, f, effective=effective,
                                        note="现场查看记录和台账，整改到位" if effective else "现场复查，问题仍然存在")

    # What the latest visits' notices are left at, by (visits ago, place in the visit): every
    # state of the life cycle shows; everything older went the whole way round.
    left_at = {
        (0, 0): "issued", (0, 1): "received", (0, 2): "draft", (0, 3): "open",
        (1, 0): "answered", (1, 1): "overdue", (1, 2): "returned", (1, 3): "overdue_unreceived",
        (2, 1): "answered",
    }
    visits = 11
    for month in range(visits):
        day = start + dt.timedelta(days=30 * month + rng.randint(0, 5))
        ago = visits - 1 - month
        chosen = rng.sample(branches, 4)
        if month in (1, 5):  # B03 keeps missing its monthly committee meeting: a recurrence
            chosen[0] = next(b for b in branches if b.code == "B03")
        for k, unit in enumerate(chosen):
            state = left_at.get((ago, k), "closed")
            items = rng.sample(ITEMS[:8] if rng.random() < 0.7 else ITEMS, rng.randint(1, 2))
            if k == 0 and month in (1, 5):
                items[0] = ITEMS[0]
            by_auditor = month == 3 and k == 1
            with clock.as_of(day):
                # an internal audit's findings are entered by the department until audits have their app
                found = [services.record_finding(assessor, services.FindingInput(
                    unit=unit, description=text, found_on=day, standard=standard,
                    item_code=code if day.year == today.year else LAST_YEAR[code],
                    period=_quarter(day), source=FindingSource.AUDIT if by_auditor else FindingSource.INSPECTION,
                    source_ref=f"{day:%Y年%m月}" + ("内部审核" if by_auditor else "党建督查")))
                    for code, standard, text in items]
                if state == "open":
                    continue  # the latest visit's findings still wait for a notice
                notice = services.draft_notice(
                    assessor, unit=unit, findings=found, title=f"{day:%Y年%m月}党建工作督查问题整改",
                    requirement="请对照督查发现的问题，逐条分析原因、制定措施、限期整改，并按时报送整改反馈单。",
                    deadline=day + dt.timedelta(days=15))
            notices += 1
            if state == "draft":
                continue
            with clock.as_of(day + dt.timedelta(days=1)):
                services.issue_notice(assessor, notice)
            if state in ("issued", "overdue_unreceived"):
                continue
            with clock.as_of(day + dt.timedelta(days=2)):
                services.receive_notice(secretary(unit), notice)
            if state in ("received", "overdue"):
                continue
            answer(notice, day + dt.timedelta(days=rng.randint(6, 13)))
            if state == "answered":
                continue
            holds = state != "returned" and rng.random() > 0.2
            verify_all(notice, day + dt.timedelta(days=17), effective=holds)
            if not holds:
                with clock.as_of(day + dt.timedelta(days=17)):
                    services.return_notice(assessor, notice, reason="复查发现整改不到位，需进一步落实措施",
                                           deadline=day + dt.timedelta(days=30))
                if state == "returned":
                    continue
                answer(notice, day + dt.timedelta(days=26))
                verify_all(notice, day + dt.timedelta(days=31))
            with clock.as_of(day + dt.timedelta(days=32 if not holds else 18)):
                services.close_notice(assessor, notice, note="整改到位，同意销号")

    # One preventive action accepted and done, the others still proposed.
    action = PreventiveAction.objects.filter(status=PreventiveStatus.PROPOSED).order_by("pk").first()
    if action is not None:
        # a branch's (or its party group's: B03G2 → branch03) secretary owns it; else the department
        owner = users.get(f"branch{action.unit.code[1:3]}", assessor) if action.unit.code.startswith("B") else assessor
        preventive.accept(assessor, action, owner=owner, due_on=today + dt.timedelta(days=20),
                          measures="建立支委会月度提醒和会前议题报备制度，组织委员每月25日前检查落实")
    result = sweep_deadlines(today)
    log(f"  rectification: {Finding.objects.count()} findings, {notices} notices, "
        f"{PreventiveAction.objects.count()} preventive actions, {result.messages} messages")
