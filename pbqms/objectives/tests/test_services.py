"""Services of the objectives app: the five fixes, values by kind, roll-up, member targets,
progress with evidence, letters and the year-end evaluation seam."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from pbqms.accounts.models import Role
from pbqms.audit.models import AuditEntry
from pbqms.objectives import letters, member_services, rollup, services
from pbqms.objectives.models import (
    LetterState,
    MemberTarget,
    ObjectiveTally,
    ResponsibilityLetter,
    ReviewState,
    Target,
    TargetPart,
)

from .conftest import YEAR

pytestmark = pytest.mark.django_db


def stored() -> Counter:
    return Counter({(t.unit_id, t.year, t.key): t.n for t in ObjectiveTally.objects.all() if t.n})


def assert_rollup_consistent() -> None:
    incremental = stored()
    rollup.recount()
    assert stored() == incremental


@pytest.mark.parametrize("kind,raw,expected", [
    ("number", "12", "12"), ("number", "1,200.50", "1200.5"), ("percent", "95%", "95"), ("percent", "100", "100"),
    ("yesno", "是", "yes"), ("yesno", "No", "no"), ("date", "2026-06-30", "2026-06-30"), ("text", " 优秀 ", "优秀"),
])
def test_values_are_normalised_by_kind(kind, raw, expected):
    assert services.clean_value(kind, raw) == expected


@pytest.mark.parametrize("kind,raw", [("number", "十二"), ("percent", "120"), ("yesno", "maybe"),
                                      ("date", "2026/13/01"), ("number", "")])
def test_values_of_the_wrong_kind_are_refused(kind, raw):
    with pytest.raises(ValidationError):
        services.clean_value(kind, raw)


def test_target_needs_the_five_fixes(tree, year, users):
    actor = users[Role.BRANCH_SECRETARY]
    base = dict(objective=year.objective, unit=tree.b01, parent=year.t01, task="t", person="p", indicator="i",
                value_kind="number", target_value="3", deadline=dt.date(YEAR, 6, 30),
                member=tree.m01)
    for missing, message in (("indicator", "定指标"), ("deadline", "定时限"), ("task", "定任务"), ("person", "定人员")):
        with pytest.raises(ValidationError) as e:
            services.create_target(actor, **{**base, missing: None if missing == "deadline" else " "})
        assert message in e.value.messages[0]
    target = services.create_target(actor, **base)
    assert target.member == tree.m01 and target.org_path == tree.b01.path


def test_target_rules_on_place_and_deadline(tree, year, users):
    admin = users[Role.COMMITTEE_ADMIN]
    base = dict(objective=year.objective, task="t", person="p", indicator="i", value_kind="number",
                target_value="3", deadline=dt.date(YEAR, 6, 30))
    with pytest.raises(ValidationError):  # the objective's own committee
        services.create_target(admin, unit=tree.sub1, **base)
    with pytest.raises(ValidationError):  # a party group
        services.create_target(admin, unit=tree.g1, **base)
    with pytest.raises(ValidationError):  # later than the parent's deadline
        services.create_target(admin, unit=tree.b01, parent=year.t01, member=tree.m01,
                               **{**base, "deadline": dt.date(YEAR, 12, 31)})
    with pytest.raises(PermissionDenied):  # a branch secretary on another branch
        services.create_target(users[Role.BRANCH_SECRETARY], unit=tree.b02, **base)


def test_target_change_raises_version_and_is_audited(tree, year, users):
    t = services.update_target(users[Role.BRANCH_SECRETARY], year.t01, target_value="99")
    assert t.version == 2 and t.target_value == "99"
    assert services.update_target(users[Role.BRANCH_SECRETARY], t, target_value="99").version == 2
    assert AuditEntry.objects.filter(model="objectives.target", object_id=str(t.pk), action="update").count() == 1


def test_rollup_follows_every_change_and_matches_a_recount(tree, year, users):
    secretary = users[Role.BRANCH_SECRETARY]
    counts = rollup.read([tree.grp.pk, tree.sub1.pk, tree.b01.pk], YEAR)
    assert counts[tree.sub1.pk]["target:on_track"] == 2 and counts[tree.grp.pk]["target:on_track"] == 2
    services.report_progress(secretary, target=year.t01, reported_on=dt.date.today(), progress=100,
                             status="achieved", note="全部完成", value="100%")
    counts = rollup.read([tree.sub1.pk, tree.b01.pk], YEAR)
    assert counts[tree.sub1.pk] == {"target:on_track": 1, "target:achieved": 1}
    assert counts[tree.b01.pk] == {"target:achieved": 1}
    member_user = users[Role.MEMBER]
    mt = member_services.propose_member_target(member_user, tree.m01, year=YEAR, category="work_task",
                                               title="完成采煤任务", measure="月度产量达标")
    member_services.review_member_target(secretary, mt, approve=True)
    mt2 = member_services.propose_member_target(member_user, tree.m01, year=YEAR, category="post_skill",
                                                title="取得高级工证书", measure="年底前取得")
    member_services.review_member_target(secretary, mt2, approve=False, comment="请写明工种")
    counts = rollup.read([tree.b01.pk], YEAR)[tree.b01.pk]
    assert counts["mt:approved"] == 1 and counts["mt:returned"] == 1 and counts["members_ok"] == 1
    assert_rollup_consistent()


def test_member_proposes_only_own_targets(tree, users):
    with pytest.raises(PermissionDenied):
        member_services.propose_member_target(users[Role.BRANCH_SECRETARY], tree.m01, year=YEAR,
                                              category="work_task", title="x", measure="y")
    with pytest.raises(ValidationError):  # a common category is the committee's
        member_services.propose_member_target(users[Role.MEMBER], tree.m01, year=YEAR, category="morality",
                                              title="x", measure="y")


def test_nobody_approves_their_own_target(tree, users):
    from pbqms.accounts import services as accounts

    # the branch secretary is also a member of B01 (m01): they may not review m01's targets
    secretary = users[Role.BRANCH_SECRETARY]
    users[Role.MEMBER].member = None
    users[Role.MEMBER].save()
    secretary.member = tree.m01
    secretary.save()
    accounts.grant_role(None, secretary, Role.MEMBER, tree.b01)
    secretary = type(secretary).objects.get(pk=secretary.pk)
    mt = member_services.propose_member_target(secretary, tree.m01, year=YEAR, category="work_task", title="x",
                                               measure="y")
    with pytest.raises(ValidationError) as e:
        member_services.review_member_target(secretary, mt, approve=True)
    assert e.value.code == "own_target"
    mt.refresh_from_db()
    assert mt.state == ReviewState.PROPOSED
    member_services.review_member_target(users[Role.BRANCH_COMMITTEE], mt, approve=True)
    mt.refresh_from_db()
    assert mt.state == ReviewState.APPROVED


def test_returned_target_is_revised_and_resubmitted(tree, users):
    mt = member_services.propose_member_target(users[Role.MEMBER], tree.m01, year=YEAR, category="work_task",
                                               title="x", measure="y")
    with pytest.raises(ValidationError):  # a return needs a reason
        member_services.review_member_target(users[Role.BRANCH_SECRETARY], mt, approve=False)
    member_services.review_member_target(users[Role.BRANCH_SECRETARY], mt, approve=False, comment="不具体")
    member_services.revise_member_target(users[Role.MEMBER], mt, category="work_task", title="月产原煤12万吨",
                                         measure="以调度报表为准")
    mt.refresh_from_db()
    assert mt.state == ReviewState.PROPOSED
    member_services.review_member_target(users[Role.BRANCH_SECRETARY], mt, approve=True)
    with pytest.raises(ValidationError):
        member_services.revise_member_target(users[Role.MEMBER], mt, category="work_task", title="z", measure="z")
    assert_rollup_consistent()


def test_common_targets_apply_to_every_party_member_once(tree, users):
    admin = users[Role.COMMITTEE_ADMIN]
    standards = {"party_spirit": "坚定理想信念", "morality": "践行社会主义核心价值观", "discipline": "严守党的纪律",
                 "masses": "每季度联系群众不少于2次"}
    with pytest.raises(PermissionDenied):
        member_services.set_common_standards(users[Role.BRANCH_SECRETARY], tree.sub1, YEAR, standards)
    with pytest.raises(ValidationError):
        member_services.set_common_standards(admin, tree.sub1, YEAR, {**standards, "masses": ""})
    member_services.set_common_standards(admin, tree.sub1, YEAR, standards)
    assert member_services.apply_common_targets(admin, tree.sub1, YEAR) == 8  # m01 and m02, four each
    assert member_services.apply_common_targets(admin, tree.sub1, YEAR) == 0
    assert MemberTarget.objects.filter(member=tree.m03).count() == 0


def test_missing_members_and_reminders(tree, users):
    from pbqms.notify.models import Notification

    services.save_policy(None, tree.sub1, year=YEAR, text="方针", effective_on=dt.date(YEAR, 1, 1),
                         member_targets_due=dt.date(YEAR, 3, 31))
    assert list(member_services.members_without_approved_targets(tree.b01, YEAR)) == [tree.m01]
    assert member_services.remind_missing_member_targets(YEAR, today=dt.date(YEAR, 3, 1)) == 0
    assert member_services.remind_missing_member_targets(YEAR, today=dt.date(YEAR, 4, 1)) == 2  # B01 and B02
    assert member_services.remind_missing_member_targets(YEAR, today=dt.date(YEAR, 4, 2)) == 2
    mine = Notification.objects.filter(recipient=users[Role.BRANCH_SECRETARY])
    assert mine.count() == 1 and "张三" in mine.get().body  # idempotent: one message per branch and year


def test_progress_with_evidence_and_rules(tree, year, users):
    from pbqms.files.models import StoredFile

    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
           b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
    secretary = users[Role.BRANCH_SECRETARY]
    with pytest.raises(ValidationError):
        services.report_progress(secretary, target=year.t01, reported_on=dt.date.today(), progress=50,
                                 status="on_track", note="x", value="很多")  # wrong kind for a percentage
    with pytest.raises(PermissionDenied):
        services.report_progress(users[Role.GROUP_LEADER], target=year.t01, reported_on=dt.date.today(),
                                 progress=50, status="on_track", note="x")
    report = services.report_progress(secretary, target=year.t01, reported_on=dt.date.today(), progress=60,
                                      status="at_risk", note="两人未参训", value="90",
                                      uploads=[SimpleUploadedFile("签到表.png", png, "image/png")])
    year.t01.refresh_from_db()
    assert (year.t01.status, year.t01.progress, year.t01.actual_value) == ("at_risk", 60, "90")
    files = services.evidence_of([report])[report.pk]
    assert [f.original_name for f in files] == ["签到表.png"]
    assert StoredFile.objects.get().org_path == tree.b01.path


def test_letter_is_signed_by_both_secretaries_then_frozen(tree, year, users):
    from pbqms.accounts import services as accounts

    admin = users[Role.COMMITTEE_ADMIN]
    letter = letters.draw_up_letter(admin, tree.b01, YEAR)
    assert letter.version == 1 and len(letter.rows) == 1 and letter.committee == tree.sub1
    with pytest.raises(PermissionDenied):  # an administrator does not sign for the committee
        letters.sign_letter(admin, letter, "committee")
    with pytest.raises(PermissionDenied):  # the committee secretary does not sign for the branch
        letters.sign_letter(users[Role.COMMITTEE_SECRETARY], letter, "branch")
    letters.sign_letter(users[Role.BRANCH_SECRETARY], letter, "branch")
    with pytest.raises(ValidationError) as e:
        letters.update_letter(admin, letter, title="改标题", preamble="")
    assert e.value.code == "signed"
    with pytest.raises(ValidationError):  # no refresh once signed by anyone
        letters.draw_up_letter(admin, tree.b01, YEAR)
    letter = letters.sign_letter(users[Role.COMMITTEE_SECRETARY], letter, "committee")
    assert letter.state == LetterState.SIGNED and letter.committee_signer_name and letter.branch_signed_at
    assert not letters.needs_amendment(letter)
    with pytest.raises(ValidationError):  # nothing changed: nothing to amend
        letters.draw_up_letter(admin, tree.b01, YEAR)
    # a changed target after signing: the letter needs an amendment, a new version signed again
    services.update_target(users[Role.BRANCH_SECRETARY], year.t01, target_value="98")
    assert letters.needs_amendment(letter)
    amendment = letters.draw_up_letter(admin, tree.b01, YEAR)
    assert amendment.version == 2 and amendment.amends == letter and amendment.rows[0]["value"] == "98%"
    letters.sign_letter(users[Role.COMMITTEE_SECRETARY], amendment, "committee")
    letters.sign_letter(users[Role.BRANCH_SECRETARY], amendment, "branch")
    letter.refresh_from_db()
    assert letter.state == LetterState.SUPERSEDED and letter.rows[0]["value"] == "100%"
    assert letters.current_letter(tree.b01, YEAR) == amendment
    assert ResponsibilityLetter.objects.count() == 2
    del accounts


def test_member_evaluation_feeds_the_points_scheme(tree, users):
    admin, secretary, member = users[Role.COMMITTEE_ADMIN], users[Role.BRANCH_SECRETARY], users[Role.MEMBER]
    member_services.set_common_standards(admin, tree.sub1, YEAR, {c: "标准" for c in
                                                                  ("party_spirit", "morality", "discipline",
                                                                   "masses")})
    member_services.apply_common_targets(admin, tree.sub1, YEAR)
    mt = member_services.propose_member_target(member, tree.m01, year=YEAR, category="work_task", title="x",
                                               measure="y")
    member_services.review_member_target(secretary, mt, approve=True)
    for t in MemberTarget.objects.filter(member=tree.m01):
        member_services.evaluate_member_target(secretary, t, score=90 if t.part == TargetPart.COMMON else 80)
    with pytest.raises(ValidationError):
        member_services.evaluate_member_target(secretary, mt, score=101)
    rows = {r.member_id: r for r in member_services.member_evaluation(YEAR)}
    r = rows[tree.m01.pk]
    assert (r.common_score, r.individual_score, r.score, r.grade, r.complete) == (
        Decimal("90.0"), Decimal("80.0"), Decimal("84.0"), "good", True)
    assert rows[tree.m02.pk].score is None and not rows[tree.m02.pk].complete
    assert [r.member_id for r in member_services.member_evaluation(YEAR, under=tree.b02.path)] == [tree.m02.pk]


def test_targets_in_scope_only(tree, year, users):
    from pbqms import scope

    other = services.create_target(None, objective=services.create_objective(
        None, tree.sub2, year=YEAR, title="外部目标", indicator="i", value_kind="text", target_value="好",
        deadline=dt.date(YEAR, 12, 31), responsible="x"), unit=tree.b03, task="t", person="p", indicator="i",
        value_kind="text", target_value="好", deadline=dt.date(YEAR, 12, 1))
    for role, user in users.items():
        readable = set(scope.objective_targets(user).values_list("pk", flat=True))
        assert other.pk not in readable, role
        assert year.t01.pk in readable, role
    assert set(scope.objective_targets(users[Role.MEMBER]).values_list("pk", flat=True)) == {year.t01.pk}
    assert Target.objects.count() == 3
