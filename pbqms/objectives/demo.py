"""Demo year of objectives — 演示数据: 钱营孜矿党委's 2026 policy and objectives (seed 001), targets on
every branch, member targets in every state, progress reports, signed letters and one amendment.
Everything goes through the services, as users would make it."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from pbqms.accounts.models import User
from pbqms.members.models import PARTY_MEMBER_STATUSES, CommitteeRole, CommitteeRoleKind, Member, MemberState
from pbqms.orgs.models import Unit, UnitKind

from . import letters, member_services, services
from .models import Target

YEAR = 2026
MINE = "QYZ"
SEED = 1

# (title, indicator, kind, value, unit of measure, responsible, how it is checked, branch share)
OBJECTIVES: list[tuple[str, str, str, str, str, str, str, tuple[str, str, str]]] = [
    ("基层党支部标准化建设全面达标", "支部标准化建设达标率", "percent", "100", "", "党委副书记",
     "按“6句话、72个字”标准季度考核、年度总评", ("对照“二图三表四本”完善支部基础工作", "支部书记", "100")),
    ("“三会一课”制度按期落实", "“三会一课”按期召开率", "percent", "100", "", "组织委员",
     "查阅《支部书记工作计划记录本》和会议记录，一月一自查",
     ("按期召开支部党员大会、支委会、党小组会和党课", "组织委员", "100")),
    ("党员教育培训全覆盖", "党员年度集中学习学时", "number", "32", "学时", "宣传委员",
     "查阅培训台账、签到表和学时统计", ("组织党员参加集中轮训和专题学习", "宣传委员", "32")),
    ("创建“党员先锋岗”和“红旗责任区”", "新创建先锋岗、责任区数", "number", "30", "个", "党委副书记",
     "按《岗区设置办法》年终评比验收", ("结合生产中心工作设岗定区，开展“二保二做”立功竞赛", "支部书记", "2")),
    ("党员目标管理全覆盖", "党员个性目标审定率", "percent", "100", "", "组织委员",
     "查阅《党员目标管理考核评价表》", ("组织党员提出个性目标并按期审定", "支部书记", "100")),
    ("安全生产无重大事故（否决指标）", "党员责任区内无重大安全事故", "yesno", "yes", "", "党委书记",
     "安全监察处月度通报，一票否决", ("党员责任区安全隐患排查每月不少于1次", "支部书记", "yes")),
    ("整改通知按期闭环", "整改通知书按期反馈率", "percent", "100", "", "政治工作部部长",
     "“五不放过”，按整改反馈单复查验收", ("按期反馈整改通知书并提交佐证材料", "支部书记", "100")),
]

INDIVIDUAL = {
    "work_task": ["全年安全生产无“三违”", "月度生产任务完成率100%", "班组设备完好率不低于95%",
                  "劳动纪律零违规", "全年优质服务零投诉"],
    "post_skill": ["年内取得高级工证书", "完成32学时理论学习并考试合格", "掌握新型液压支架操作规程",
                   "参加技术比武并进入前十名"],
    "responsibility_area": ["责任区内职工思想稳定，每季度谈心不少于4人次", "责任区安全隐患每周排查一次",
                            "帮带一名青年职工达到独立上岗"],
}
MEASURE = {"work_task": "以月度考核和调度报表为准", "post_skill": "以证书、考试成绩为准",
           "responsibility_area": "以《党员责任区工作登记考核表》为准"}
COMMON = {"party_spirit": "坚定理想信念，按时参加组织生活，按期足额交纳党费",
          "morality": "践行社会主义核心价值观，遵守社会公德、职业道德",
          "discipline": "严守党的纪律和国家法律法规，遵守企业规章制度",
          "masses": "每季度联系群众不少于2次，及时反映群众意见"}


def _secretary_name(unit: Unit) -> str:
    post = CommitteeRole.objects.filter(unit=unit, role=CommitteeRoleKind.SECRETARY, ended_on__isnull=True
                                        ).select_related("member").first()
    return post.member.name if post else ""  # no secretary: signing refuses it


def build(log: Callable[[str], None]) -> None:
    from django.utils import translation

    with translation.override("zh-hans"):  # the records' own words (letter titles, reminders) in Chinese
        _build(log)


def _build(log: Callable[[str], None]) -> None:
    rng = random.Random(SEED)
    mine = Unit.objects.get(code=MINE)
    committee_user = User.objects.filter(username="committee").first()
    committee_name = _secretary_name(mine)
    services.save_policy(None, mine, year=YEAR, effective_on=dt.date(YEAR, 1, 5),
                         member_targets_due=dt.date(YEAR, 3, 31),
                         text="围绕中心抓党建，抓好党建促发展；凡事必规定、规定必执行、执行必有效、过程必记录；"
                              "过程控制、闭合管理、持续改进。")
    objectives = [services.create_objective(None, mine, year=YEAR, title=t, indicator=i, value_kind=k,
                                             target_value=v, measure_unit=mu, deadline=dt.date(YEAR, 12, 31),
                                             responsible=r, check_method=c)
                  for t, i, k, v, mu, r, c, _share in OBJECTIVES]
    office = Unit.objects.get(code="Z01")
    direct = list(Unit.objects.filter(parent=mine, dissolved_on__isnull=True).exclude(kind=UnitKind.GROUP)
                  .order_by("order", "code"))
    in_office = list(Unit.objects.filter(parent=office, kind=UnitKind.BRANCH).order_by("order"))
    branches = [u for u in direct if u.kind == UnitKind.BRANCH] + in_office
    targets: list[Target] = []
    for n, (objective, spec) in enumerate(zip(objectives, OBJECTIVES, strict=True)):
        task, person, value = spec[7]
        for unit in direct:
            if n == 3 and unit.code in ("B14", "B15"):
                continue  # retired and project branches carry no 先锋岗 target yet: gaps on the cascade
            deadline = dt.date(YEAR, 12, 15) if n != 4 else dt.date(YEAR, 3, 31)
            target = services.create_target(
                None, objective=objective, unit=unit, task=task, person=person, indicator=spec[1],
                value_kind=spec[2], target_value=str(int(value) * 3) if unit == office and spec[2] == "number"
                else value, measure_unit=spec[4], deadline=deadline,
                quality="按体系文件要求执行，记录完整、可追溯" if n < 3 else "")
            targets.append(target)
            if unit == office:
                for branch in in_office:
                    targets.append(services.create_target(
                        None, objective=objective, unit=branch, parent=target, task=task, person=person,
                        indicator=spec[1], value_kind=spec[2], target_value=value, measure_unit=spec[4],
                        deadline=deadline))
    log(f"    {len(objectives)} objectives, {len(targets)} targets")
    _progress(rng, targets)
    _member_targets(rng, mine, branches)
    _letters(rng, mine, branches + [office], committee_user, committee_name, targets)
    reminded = member_services.remind_missing_member_targets(YEAR)
    log(f"    reminders to {reminded} branches about members without approved targets")


def _progress(rng: random.Random, targets: list[Target]) -> None:
    for t in targets:
        if t.value_kind == "yesno":
            plan = [(dt.date(YEAR, 6, 30), 50, "on_track", ""), (dt.date(YEAR, 11, 20), 92, "on_track", "")]
        else:
            plan = [(dt.date(YEAR, 4, 2), 25, "on_track", ""), (dt.date(YEAR, 7, 3), 55, "on_track", ""),
                    (dt.date(YEAR, 10, 8), 80, "on_track", "")]
        roll = rng.random()
        if roll < 0.22:
            plan[-1] = (plan[-1][0], 100, "achieved", t.target_value if t.value_kind != "yesno" else "yes")
        elif roll < 0.34:
            plan[-1] = (plan[-1][0], 60, "at_risk", "")
        elif roll < 0.39:
            plan[-1] = (plan[-1][0], 40, "missed", "")
        if t.deadline < dt.date(YEAR, 4, 2):
            plan = [(dt.date(YEAR, 3, 31), 100, "achieved", "100") if roll < 0.8 else
                    (dt.date(YEAR, 3, 31), 85, "missed", "85")]
        notes = {"on_track": "按计划推进，记录完整", "achieved": "已完成，佐证材料齐全",
                 "at_risk": "部分党员因倒班未能参加，正在补课", "missed": "未按期完成，已列入整改"}
        for day, pct, status, value in plan:
            services.report_progress(None, target=t, reported_on=day, progress=pct, status=status,
                                     note=notes[status], value=value)


# Branches whose people sign in to the demo (branch01, organiser01, group01, member01): their
# members' targets go through the services one by one, so their inboxes hold the real reminders.
# The other branches' targets are the same rows written in bulk (#20: the first `make demo` within
# 30 s): the services' own field checks, the same audit entries, the counts rebuilt once.
THROUGH_SERVICES = {"B01"}


def _member_targets(rng: random.Random, mine: Unit, branches: list[Unit]) -> None:
    from django.utils import timezone

    from pbqms.audit import services as audit
    from pbqms.audit.models import AuditAction

    from . import rollup
    from .models import MemberTarget, ReviewState, TargetPart

    member_services.set_common_standards(None, mine, YEAR, COMMON)
    member_services.apply_common_targets(None, mine, YEAR)
    users = {u.member_id: u for u in User.objects.filter(member__isnull=False)}
    reviewers = {u.role_assignments.first().unit_id: u for u in User.objects.filter(username__startswith="branch")
                 if u.role_assignments.exists()}
    bulk: list[tuple[MemberTarget, str, Any]] = []  # (target, what the review did, reviewer)
    evaluate: list[tuple[Any, Any]] = []  # (target or its index in bulk, reviewer)
    for branch in branches:
        people = list(Member.objects.filter(unit=branch, state=MemberState.ACTIVE,
                                            status__in=list(PARTY_MEMBER_STATUSES)).order_by("pk"))
        reviewer = reviewers.get(branch.pk)
        one_by_one = branch.code in THROUGH_SERVICES
        for m in people:
            user = users.get(m.pk)
            roll = rng.random()
            if user is not None and user.username == "member01":
                roll = 0.5  # member01: one approved, one returned, one proposed
            if roll < 0.10:
                continue  # no target at all: on the branch secretary's to-do list
            kinds = rng.sample(list(INDIVIDUAL), 2 if roll < 0.9 else 3)
            for j, kind in enumerate(kinds):
                title = rng.choice(INDIVIDUAL[kind])
                actor = reviewer if reviewer is not None and reviewer.member_id != m.pk else None
                if roll < 0.16 and j == 0:
                    outcome = "proposed"  # waiting
                elif (roll < 0.22 or (0.45 < roll < 0.55)) and j == 1:
                    outcome = "returned"
                elif 0.45 < roll < 0.55 and j == 2:
                    outcome = "proposed"
                else:
                    outcome = "approved"
                scored = outcome == "approved" and branch.code in ("B01", "B02", "B03", "B06") and roll > 0.3
                score = rng.choice([78, 85, 88, 92, 95]) if scored else None
                if one_by_one:
                    mt = member_services.propose_member_target(
                        None, m, year=YEAR, category=kind, title=title, measure=MEASURE[kind],
                        deadline=dt.date(YEAR, 12, 31))
                    if outcome != "proposed":
                        member_services.review_member_target(
                            actor, mt, approve=outcome == "approved",
                            comment="" if outcome == "approved" else RETURNED)
                    if score is not None:
                        member_services.evaluate_member_target(actor, mt, score=score)
                    continue
                data = member_services._individual(kind, title, MEASURE[kind], dt.date(YEAR, 12, 31), YEAR)
                mt = MemberTarget(member=m, unit=m.unit, org_path=m.org_path, year=YEAR, part=TargetPart.INDIVIDUAL,
                                  state=ReviewState.PROPOSED, **data)
                if outcome != "proposed":
                    mt.state = ReviewState.APPROVED if outcome == "approved" else ReviewState.RETURNED
                    mt.review_comment = "" if outcome == "approved" else RETURNED
                    mt.reviewed_by = actor if getattr(actor, "pk", None) else None
                    mt.reviewed_at = timezone.now()
                bulk.append((mt, outcome, actor))
                if score is not None:
                    evaluate.append((mt, score))
    MemberTarget.objects.bulk_create([mt for mt, _o, _a in bulk], batch_size=1000)
    audit.record_many(None, AuditAction.SUBMIT, [
        (mt, audit.created(audit.snapshot(mt, member_services.MT_FIELDS) | {"state": ReviewState.PROPOSED,
                                                                          "review_comment": ""}))
        for mt, _o, _a in bulk])
    for outcome, action in (("approved", AuditAction.APPROVE), ("returned", AuditAction.RETURN)):
        by_actor: dict[Any, list[MemberTarget]] = {}
        for mt, o, actor in bulk:
            if o == outcome:
                by_actor.setdefault(actor, []).append(mt)
        for actor, done in by_actor.items():
            audit.record_many(actor, action, [(mt, {"state": [ReviewState.PROPOSED, mt.state]}) for mt in done],
                              note=RETURNED if outcome == "returned" else "")
    rollup.recount(YEAR)  # the bulk rows counted once, as the services would have counted them
    for mt, score in evaluate:
        member_services.evaluate_member_target(None, mt, score=score)
    for mt in MemberTarget.objects.filter(part="common", unit__code__in=["B01", "B02", "B03", "B06"])[:200]:
        member_services.evaluate_member_target(None, mt, score=rng.choice([82, 88, 90, 95]))


RETURNED = "目标不够具体，请写明量化标准和完成时限"


def _letters(rng: random.Random, mine: Unit, units: list[Unit], committee_user: Any, committee_name: str,
             targets: list[Target]) -> None:
    branch_users = {u.role_assignments.first().unit_id: u for u in User.objects.filter(username__startswith="branch")
                    if u.role_assignments.exists()}
    for i, unit in enumerate(sorted(units, key=lambda u: u.code)):
        letter = letters.draw_up_letter(None, unit, YEAR)
        if unit.code == "B15":
            continue  # drawn up, waiting for both signatures
        day = dt.datetime(YEAR, 1, 18, 9, 30, tzinfo=dt.UTC) + dt.timedelta(minutes=7 * i)
        branch_user = branch_users.get(unit.pk)
        name = branch_user.member.name if branch_user is not None and branch_user.member_id else \
            _secretary_name(unit)
        letters.sign_letter(None, letter, "branch", name=name, at=day)
        if unit.code == "B14":
            continue  # signed by the branch only
        letters.sign_letter(None, letter, "committee", name=committee_name, at=day + dt.timedelta(hours=2))
    # B02 raised a target mid-year: the amended letter was signed again; B05's change awaits one.
    for code, amend in (("B02", True), ("B05", False)):
        target = next(t for t in targets if t.unit.code == code and t.value_kind == "number")
        services.update_target(None, target, target_value=str(int(float(target.target_value)) + 8),
                               quality="新增一线班组长专题轮训")
        if amend:
            unit = target.unit
            amendment = letters.draw_up_letter(None, unit, YEAR)
            at = dt.datetime(YEAR, 7, 6, 10, 0, tzinfo=dt.UTC)
            letters.sign_letter(None, amendment, "branch", name=_secretary_name(unit), at=at)
            letters.sign_letter(None, amendment, "committee", name=committee_name, at=at + dt.timedelta(hours=3))
    del rng, mine
