"""Two years of assessment for the demo mine (钱营孜矿), laid down through the services.

- Last year ran under seed 001's structure (工作指标, 否决指标, 互动评价指标, 奖惩办法): four
  quarters and the annual summary published, stars proposed, publicised (公示) and confirmed.
- This year runs the mine's own "六考一评" (seed 004, 67 items): the branches self-check each
  quarter, the department scores (a panel of two in the third quarter), Q1–Q3 are published with
  the half-year analysis, Q4 is being scored, and November's self-check is open.
- Next year's scheme is already drafted as a copy with a raised baseline, so the comparison of
  versions has something to show.

Branches differ: some are strong, a few slip (B07 and B09 lose the most), one had a discipline
case last year (its stars capped), so rankings, trends and the heat map have something to show.
Each step runs "as of" its own date (pbqms.core.clock).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pbqms import scope
from pbqms.accounts.models import User
from pbqms.core import clock
from pbqms.orgs.models import Unit

from . import linkage, results, schemes, services
from .fixtures import SCHEMES
from .models import ItemKind, Method, Period, PeriodStatus, SchemeItem, SheetKind
from .services import ScoreInput

FAULTS = ["记录不完整，缺少签到和会议决定事项", "未按计划开展，无书面说明", "台账资料归档不及时",
          "内容与上级要求不符，针对性不强", "落实不到位，检查时未见佐证材料", "组织不规范，党员参与率偏低"]
WEAK = {"B07": 0.30, "B09": 0.26, "B05": 0.2, "B13": 0.18}  # the rest: 0.04–0.12


def _input(item: SchemeItem, rng: random.Random, p: float, evidence: str) -> ScoreInput:
    """A realistic score for one item: mostly full, sometimes a deduction with its five facts."""
    if item.kind == ItemKind.VETO:
        return ScoreInput(item=item, yes=False)
    if item.kind in (ItemKind.BONUS, ItemKind.PENALTY):
        n = 1 if rng.random() < (0.15 if item.kind == ItemKind.BONUS else p / 3) else 0
        facts = {"reason": f"{item.title}：{'受到上级表彰' if item.kind == ItemKind.BONUS else '被上级通报'}",
                 "standard_applied": item.standard[:200], "evidence_ref": evidence} if n else {}
        return ScoreInput(item=item, occurrences=n, **facts)
    lose = rng.random() < p
    facts = {"reason": f"{item.title}：{rng.choice(FAULTS)}", "standard_applied": item.standard[:300],
             "evidence_ref": evidence} if lose else {}
    if item.method == Method.DEDUCT:
        return ScoreInput(item=item, occurrences=rng.randint(1, 2) if lose else 0, **facts)
    if item.method == Method.GRADED:
        return ScoreInput(item=item, level=item.levels[rng.randint(1, len(item.levels) - 1) if lose else 0][0], **facts)
    if item.method == Method.RATIO:
        floor, full = int(item.ratio_floor or 60), int(item.ratio_full or 95)
        return ScoreInput(item=item, measured=Decimal(rng.randint(floor, full - 1) if lose else 100), **facts)
    return ScoreInput(item=item, yes=not lose, **facts)


def _score(actor: Any, period: Period, unit: Unit, kind: str, rng: random.Random, p: float,
           submit: bool = True, veto: str = "") -> None:
    sheet = services.open_sheet(actor, period, unit, kind)
    existing = {s.item_id: s for s in sheet.scores.all()}
    evidence = f"{period.key}考核检查记录（{unit.name}）"
    entries = []
    for item in services.sheet_items(period):
        if item.pk in existing:  # pre-filled from the records: confirmed as computed
            continue
        entry = _input(item, rng, p, evidence)
        if item.code == veto:
            entry = ScoreInput(item=item, yes=True, reason=f"{unit.name}发生违纪案件，经纪委查实",
                               standard_applied=item.standard[:300], evidence_ref="纪委处理决定")
        entries.append(entry)
    services.save_scores(actor, sheet, entries)
    if submit:
        services.submit_sheet(actor, sheet, summary="本期对照细则逐项自查，主要做法、亮点、存在问题和下步思路见附件。"
                              if kind == SheetKind.SELF else "")


def _assessor_for(unit: Unit, candidates: list[User]) -> User:
    return next(u for u in candidates if scope.can_assess_unit(u, unit))


def _run_period(period: Period, admin: User, when: dt.date, branches: list[Unit], scorers: list[User],
                secretaries: dict[str, User], rng: random.Random, *, publish: bool = True,
                self_check: bool = True, vetoes: dict[str, str] | None = None, panel: list[User] | None = None,
                partial: float = 1.0) -> None:
    with clock.as_of(when - dt.timedelta(days=12)):
        if self_check and period.kind != "year":
            for unit in branches:
                if unit.code in secretaries:
                    _score(secretaries[unit.code], period, unit, SheetKind.SELF, rng, 0.05)
        if panel:
            services.set_panel(admin, period, panel)
        services.move_period(admin, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    with clock.as_of(when - dt.timedelta(days=5)):
        for k, unit in enumerate(branches):
            if k >= len(branches) * partial:
                break
            p = WEAK.get(unit.code, 0.04 + (k % 5) * 0.02)
            people = [u for u in (panel or [_assessor_for(unit, scorers)]) if scope.can_assess_unit(u, unit)]
            for person in people:
                _score(person, period, unit, SheetKind.ASSESSOR, rng, p, submit=partial >= 1 or k % 2 == 0,
                       veto=(vetoes or {}).get(unit.code, ""))
    if not publish:
        return
    with clock.as_of(when):
        services.move_period(admin, period, PeriodStatus.REVIEW)
        services.move_period(admin, period, PeriodStatus.PUBLISHED)


# Items of 六考一评 and the mine's objectives (whose branch targets fill each responsibility letter)
# they measure: 考核评价对照责任目标.
LETTER_LINKS = {"“三会一课”质量": "“三会一课”", "组织生活制度落实": "“三会一课”", "党员教育培训": "党员教育培训",
                "党建标准化台帐": "基层党支部标准化", "党员示范岗": "创建“党员先锋岗”", "党员日常管理": "党员目标管理",
                "季度自查与问题整改": "整改通知", "发生重大安全事故": "安全生产无重大事故"}


def _link_letter_targets(admin: User, scheme: Any) -> None:
    from . import targets

    choices = targets.objective_choices(admin, scheme)
    for item in scheme.items.all():
        for title, objective in LETTER_LINKS.items():
            found = [o.pk for o in choices if o.title.startswith(objective)]
            if item.title.startswith(title) and found:
                targets.set_item_objectives(admin, item, found)


def _monthly_self_checks(plan: Any, quarter: int, branches: list[Unit], secretaries: dict[str, User],
                         rng: random.Random, today: dt.date) -> None:
    """The quarter's ended months self-checked by the branches (一月一自查); the weakest skip one
    now and then, so the missed-months figure has something to count."""
    for month in plan.periods.filter(kind="month", starts_on__gte=dt.date(plan.year, quarter * 3 - 2, 1),
                                     ends_on__lte=dt.date(plan.year, quarter * 3, 28) + dt.timedelta(days=3),
                                     ends_on__lt=today).order_by("starts_on"):
        with clock.as_of(month.ends_on - dt.timedelta(days=3)):
            for unit in branches:
                if unit.code not in secretaries or (unit.code in WEAK and month.starts_on.month % 3 == 2):
                    continue
                _score(secretaries[unit.code], month, unit, SheetKind.SELF, rng, 0.05)


def _member_points(year: int, quarters: list[int], admin: User, rng: random.Random,
                   log: Callable[[str], None]) -> None:
    """B01's quantified member points (党员量化积分): its committee scores each member in the last
    published quarter; the members' ranking stays private (the scheme's default)."""
    from pbqms.members.models import Member

    b01 = Unit.objects.get(code="B01")
    secretary = User.objects.get(username="branch01")
    with clock.as_of(dt.date(year, 1, 10)):
        scheme = schemes.publish_scheme(admin, schemes.load_scheme(admin, b01, year, SCHEMES["member_points"]))
        plan = services.create_plan(admin, scheme)
        linkage.save_linkage(admin, plan, [  # 党员风险金: the share returned by the member's points
            linkage.LinkageInput(min_total=t, secretary="1", committee="1", risk_fund=f)
            for t, f in (("95", "100"), ("85", "90"), ("70", "70"), ("0", "50"))])
    if not quarters:
        return
    period = plan.periods.get(key=f"{year}Q{quarters[-1]}")
    when = period.ends_on + dt.timedelta(days=8)
    with clock.as_of(when):
        services.move_period(admin, period, PeriodStatus.SCORING)
        period.refresh_from_db()
        people = Member.objects.filter(unit__path__startswith=b01.path, status="full").exclude(
            pk=secretary.member_id).order_by("pk")[:30]
        for member in people:
            sheet = services.open_sheet(secretary, period, member.unit, SheetKind.ASSESSOR, member=member)
            evidence = f"{period.key}党员量化积分考核记录"
            filled = set(sheet.scores.values_list("item_id", flat=True))  # pre-filled from the member's targets
            entries = [_input(i, rng, 0.12, evidence) for i in services.sheet_items(period) if i.pk not in filled]
            services.save_scores(secretary, sheet, entries)
            services.submit_sheet(secretary, sheet)
        services.move_period(admin, period, PeriodStatus.REVIEW)
        services.move_period(admin, period, PeriodStatus.PUBLISHED)
    log(f"  assessment: member points of {len(people)} members of B01 in {period.key}")


def _linkage(admin: User, plan: Any) -> None:
    """Seed 001: results linked to the secretaries', committee members' and administrative heads'
    performance pay (by stars)."""
    linkage.save_linkage(admin, plan, [
        linkage.LinkageInput(stars=s, secretary=sec, committee=com, head=head)
        for s, sec, com, head in ((5, "1.3", "1.2", "1.2"), (4, "1.2", "1.1", "1.1"), (3, "1.1", "1.05", "1.05"),
                                  (2, "1.0", "1.0", "1.0"), (1, "0.95", "0.95", "0.95"), (0, "0.9", "0.9", "0.9"))])


def build(log: Callable[[str], None] = print) -> None:
    rng = random.Random(20260401)
    today = clock.today()
    year = today.year
    admin = User.objects.get(username="admin")
    committee = User.objects.get(username="committee")
    assessor = User.objects.get(username="assessor")
    mine = Unit.objects.get(code="QYZ")
    branches = list(Unit.objects.filter(code__regex=r"^B\d\d$").order_by("code"))
    secretaries = {u.username.replace("branch", "B"): u for u in User.objects.filter(username__regex=r"^branch\d\d$")}
    scorers = [assessor, committee, admin]

    # Last year: seed 001's structure, the whole year published and stars confirmed.
    with clock.as_of(dt.date(year - 1, 1, 5)):
        from pbqms.demo.adapt import coal_mine  # seed 001's scheme, with a coal mine's items (#22.11)

        old = schemes.publish_scheme(admin, schemes.load_scheme(admin, mine, year - 1, coal_mine(SCHEMES["dongli"])))
        plan = services.create_plan(admin, old)
    veto_code = "FJ04"  # 精神文明建设: a discipline case last year (no stars, no awards that year)
    for q in range(1, 5):
        end = dt.date(year - 1, q * 3, 28) + dt.timedelta(days=12)
        _run_period(plan.periods.get(key=f"{year - 1}Q{q}"), admin, end, branches, scorers, secretaries, rng,
                    self_check=False, vetoes={"B09": veto_code} if q == 3 else None)
    _run_period(plan.periods.get(key=f"{year - 1}"), admin, dt.date(year, 1, 8), branches, scorers, secretaries,
                rng, self_check=False)
    with clock.as_of(dt.date(year, 1, 9)):
        results.publicise_stars(admin, plan, days=5)
    with clock.as_of(dt.date(year, 1, 15)):
        results.confirm_stars(admin, plan)
        _linkage(admin, plan)
    log(f"  assessment {year - 1}: {plan.periods.filter(status=PeriodStatus.PUBLISHED).count()} periods published")

    # This year: the mine's 六考一评.
    with clock.as_of(dt.date(year, 1, 6)):
        scheme = schemes.publish_scheme(admin, schemes.load_scheme(admin, mine, year, SCHEMES["liukao"]))
        plan = services.create_plan(admin, scheme)
        _linkage(admin, plan)
        _link_letter_targets(admin, scheme)
        from . import model_branches  # the branches every branch benchmarks against (标杆支部)

        for code, why in (("B01", "连续两年五星级党支部，“三会一课”记录规范"), ("B03", "“一支部一品牌”示范点")):
            model = next((u for u in branches if u.code == code), None)
            if model is not None:
                model_branches.designate(admin, plan, model, why)
    quarters = [q for q in range(1, 5) if dt.date(year, q * 3, 28) + dt.timedelta(days=12) < today]
    for q in quarters:
        _monthly_self_checks(plan, q, branches, secretaries, rng, today)
        _run_period(plan.periods.get(key=f"{year}Q{q}"), admin, dt.date(year, q * 3, 28) + dt.timedelta(days=12),
                    branches, scorers, secretaries, rng, panel=[assessor, committee] if q == 3 else None)
        if q == 2:
            h1 = plan.periods.get(key=f"{year}H1")
            with clock.as_of(dt.date(year, 7, 10)):  # each branch files its own half-year analysis
                for unit in branches:
                    if unit.code in secretaries:
                        sheet = services.open_sheet(secretaries[unit.code], h1, unit, SheetKind.SELF)
                        services.submit_sheet(secretaries[unit.code], sheet, summary=(
                            f"{unit.name}上半年按“一月一自查”开展自查，三会一课基本落实；存在问题：部分会议记录不够规范，"
                            "整改反馈不够及时。下半年思路：抓记录规范、抓问题整改、抓特色品牌。"))
            with clock.as_of(dt.date(year, 7, 15)):
                results.compute(h1)
                services.save_analysis(admin, h1, "上半年各支部党建工作总体平稳，三会一课落实较好；B07、B09"
                                       "在组织生活记录和党员教育管理方面失分较多，需重点督导。下半年重点："
                                       "抓记录规范、抓整改落实、抓特色品牌创建。")
    if quarters:  # the worst deductions of the last published quarter go to the rectification loop
        from . import findings

        last = plan.periods.get(key=f"{year}Q{quarters[-1]}")
        with clock.as_of(last.published_at.date() if last.published_at else today):
            for code in ("B07", "B09"):
                unit = next(u for u in branches if u.code == code)
                findings.raise_findings(assessor, last, unit)
    current = next((q for q in range(1, 5) if q not in quarters), None)
    if current:
        _monthly_self_checks(plan, current, branches, secretaries, rng, today)
        period = plan.periods.get(key=f"{year}Q{current}")
        _run_period(period, admin, min(today, dt.date(year, current * 3, 28)), branches, scorers, secretaries, rng,
                    publish=False, partial=0.6)
    month = plan.periods.filter(kind="month", starts_on__lte=today, ends_on__gte=today).first()
    if month:
        with clock.as_of(today):
            for unit in branches[:8]:
                if unit.code in secretaries:
                    _score(secretaries[unit.code], month, unit, SheetKind.SELF, rng, 0.05, submit=unit.code < "B05")
    with clock.as_of(today):  # what the daily job has done by today: every ended month is closed
        from . import cadence

        closed = cadence.close_months(today)
    log(f"  assessment {year}: {plan.periods.filter(status=PeriodStatus.PUBLISHED).count()} periods published"
        f" ({closed} monthly self-checks closed)")

    _member_points(year, quarters, admin, rng, log)

    # Next year's scheme drafted as a copy with a raised baseline (持续改进: 调高底线).
    with clock.as_of(today):
        draft = schemes.copy_for_year(admin, scheme, year + 1)
        first = (draft.items.filter(method=Method.DEDUCT, kind=ItemKind.WORK)
                 .order_by("category__order", "order").first())
        if first:
            raised = first.standard + "（新增：会议记录须当日录入，逾期视为缺记录）"
            schemes.save_item(admin, draft, {"standard": raised}, item=first)
