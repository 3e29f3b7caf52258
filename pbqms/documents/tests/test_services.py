"""The rules of document control, through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from pbqms import scope
from pbqms.accounts import services as accounts
from pbqms.accounts.models import Role
from pbqms.audit.models import AuditEntry
from pbqms.documents import circulation, selectors, services
from pbqms.documents.models import (
    Acknowledgement,
    Document,
    DocumentVersion,
    NumberingPattern,
    PeriodicReview,
    ReviewOutcome,
    Tier,
    VersionStatus,
    VersionTerm,
)

from .conftest import TEXT, publish_flow

pytestmark = pytest.mark.django_db


def test_numbering_follows_the_units_pattern(tree, users):
    staff = users[Role.DEPARTMENT_STAFF]
    services.set_numbering_pattern(staff, tree.sub1, Tier.PROCEDURE, "YK-CX-{year}-{seq:03d}")
    a = services.create_document(staff, unit=tree.sub1, tier=Tier.PROCEDURE, title="发展党员控制程序")
    b = services.create_document(staff, unit=tree.sub1, tier=Tier.PROCEDURE, title="三会一课控制程序")
    year = timezone.localdate().year
    assert (a.number, b.number) == (f"YK-CX-{year}-001", f"YK-CX-{year}-002")
    c = services.create_document(staff, unit=tree.sub1, tier=Tier.RECORD_FORM, title="党员大会记录表")
    assert c.number == "SUB1-JL-001"  # no pattern of its own: the default


@pytest.mark.parametrize("pattern", ["QYZ-CX", "QYZ-{seq}-{seq}", "QYZ-{sq:03d}", "QYZ-{seq:abc}", "QYZ {seq}",
                                     "QYZ-{seq", "QYZ-{seq!r}", "QYZ-{year:04d}-{seq}"])
def test_a_malformed_pattern_is_refused(tree, users, pattern):
    staff = users[Role.DEPARTMENT_STAFF]
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as e:
        services.set_numbering_pattern(staff, tree.sub1, Tier.PROCEDURE, pattern)
    assert "编号规则" in e.value.messages[0] and "无效" in e.value.messages[0]
    assert not NumberingPattern.objects.exists() and AuditEntry.objects.count() == before


def test_the_whole_flow_publishes_distributes_and_indexes(tree, users, regulation):
    v1 = regulation.current
    assert v1.status == VersionStatus.PUBLISHED and v1.effective_from == timezone.localdate()
    # every active role holder in SUB1's subtree receives it: all eight fixture users
    assert Acknowledgement.objects.filter(version=v1).count() == 8
    assert VersionTerm.objects.filter(version=v1, term="党员大会").exists()
    assert PeriodicReview.objects.get(document=regulation).due_on == circulation.add_months(timezone.localdate(), 12)
    assert AuditEntry.objects.filter(model="documents.documentversion", action="publish").count() == 1


def test_new_version_supersedes_and_moves_the_index(tree, users, regulation):
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_SECRETARY]
    v2 = services.new_version(staff, regulation)
    services.edit_draft(staff, v2, procedure=TEXT["procedure"] + "四、会议记录归档保存。")
    with pytest.raises(ValidationError, match="说明"):
        services.submit(staff, v2)
    services.edit_draft(staff, v2, change_summary="增加会议记录归档要求：检查发现记录不全。")
    publish_flow(regulation, staff, secretary)
    regulation.refresh_from_db()
    v1 = regulation.versions.get(number=1)
    assert regulation.current.number == 2 and v1.status == VersionStatus.SUPERSEDED
    assert not VersionTerm.objects.filter(version=v1).exists()
    assert VersionTerm.objects.filter(version=regulation.current, term="归档").exists()
    diff = selectors.diff(v1, regulation.current)
    changed = {d.field: d for d in diff if d.changed}
    assert set(changed) == {"procedure"} and "<ins>四、会议记录归档保存。</ins>" in changed["procedure"].inline


def test_editing_a_published_version_is_refused(tree, users, regulation):
    v1 = regulation.current
    before = DocumentVersion.objects.get(pk=v1.pk).procedure
    with pytest.raises(ValidationError) as e:
        services.edit_draft(users[Role.DEPARTMENT_STAFF], v1, procedure="改写")
    assert e.value.messages == ["已发布的版本不能修改，请另起新版本。"]
    assert DocumentVersion.objects.get(pk=v1.pk).procedure == before
    v1 = DocumentVersion.objects.get(pk=v1.pk)
    v1.procedure = "绕过服务直接改"
    with pytest.raises(PermissionError):
        v1.save()


def test_nobody_approves_or_reviews_their_own_draft(tree, users):
    secretary = users[Role.COMMITTEE_SECRETARY]
    doc = services.create_document(secretary, unit=tree.sub1, tier=Tier.MANUAL, title="党建质量管理手册",
                                   purpose="总纲")
    v = doc.versions.get()
    services.submit(secretary, v)
    with pytest.raises(ValidationError, match="审核自己起草"):
        services.review(secretary, v, passed=True)
    services.review(users[Role.COMMITTEE_ADMIN], v, passed=True)
    with pytest.raises(ValidationError) as e:
        services.approve(secretary, v)
    assert e.value.messages == ["任何人不得批准自己起草的文件版本，须由另一位批准人签批。"]
    v.refresh_from_db()
    assert v.status == VersionStatus.IN_REVIEW and not v.steps.filter(kind="approve").exists()


def test_publishing_without_an_approver_is_refused(tree, users):
    staff = users[Role.DEPARTMENT_STAFF]
    doc = services.create_document(staff, unit=tree.sub1, tier=Tier.REGULATION, title="谈心谈话制度", **TEXT)
    v = doc.versions.get()
    for step in (None, "submit", "review"):
        if step == "submit":
            services.submit(staff, v)
        elif step == "review":
            services.review(users[Role.COMMITTEE_SECRETARY], v, passed=True)
        with pytest.raises(ValidationError) as e:
            services.publish(staff, v)
        assert "尚无批准人" in e.value.messages[0]
        v.refresh_from_db()
        assert v.status != VersionStatus.PUBLISHED and v.published_at is None
    assert not Acknowledgement.objects.exists() and not VersionTerm.objects.exists()


def test_roles_that_may_not_act(tree, users, regulation):
    branch = users[Role.BRANCH_SECRETARY]
    with pytest.raises(PermissionDenied):
        services.create_document(branch, unit=tree.b01, tier=Tier.REGULATION, title="x")
    with pytest.raises(PermissionDenied):
        services.new_version(branch, regulation)
    with pytest.raises(PermissionDenied):
        services.abolish(users[Role.DEPARTMENT_STAFF], regulation, reason="不再适用")


def test_returning_a_draft_needs_a_reason_and_sends_it_back(tree, users):
    staff = users[Role.DEPARTMENT_STAFF]
    doc = services.create_document(staff, unit=tree.sub1, tier=Tier.REGULATION, title="党费收缴制度", **TEXT)
    v = doc.versions.get()
    services.submit(staff, v)
    with pytest.raises(ValidationError):
        services.review(users[Role.COMMITTEE_SECRETARY], v, passed=False)
    services.review(users[Role.COMMITTEE_SECRETARY], v, passed=False, comment="标准不明确")
    v.refresh_from_db()
    assert v.status == VersionStatus.DRAFT
    services.submit(staff, v)
    with pytest.raises(ValidationError, match="审核"):
        services.approve(users[Role.COMMITTEE_SECRETARY], v)


def test_future_effective_date_waits_for_the_sweep(tree, users, regulation):
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_SECRETARY]
    v2 = services.new_version(staff, regulation, change_summary="按新条例修订")
    services.edit_draft(staff, v2, purpose="按新条例规范党员大会。")
    later = timezone.localdate() + dt.timedelta(days=10)
    publish_flow(regulation, staff, secretary, effective_from=later)
    regulation.refresh_from_db()
    assert regulation.current.number == 1
    assert circulation.sweep_reviews(later - dt.timedelta(days=1)) == 0
    assert circulation.sweep_reviews(later) >= 1
    regulation.refresh_from_db()
    assert regulation.current.number == 2
    assert circulation.sweep_reviews(later) == 0


def test_sweep_reminds_once_of_due_reviews_and_unread_documents(tree, users, regulation, monkeypatch):
    sent = []
    monkeypatch.setattr(circulation, "_notify", lambda **kw: sent.append(kw) or len(kw["recipients"]))
    review = PeriodicReview.objects.get(document=regulation)
    Acknowledgement.objects.update(sent_at=timezone.now() - dt.timedelta(days=8))
    day = review.due_on - dt.timedelta(days=5)
    first = circulation.sweep_reviews(day)
    assert first == 1 + 8  # one review reminder, eight unread recipients
    assert circulation.sweep_reviews(day) == 0  # idempotent
    keys = [s["key"] for s in sent]
    assert f"documents.review:{review.pk}:due" in keys and f"documents.unread:{regulation.current_id}" in keys
    owners = {u.username for s in sent if s["key"].startswith("documents.review") for u in s["recipients"]}
    assert owners == {"u_committee_secretary", "u_committee_admin", "u_department_staff"}
    assert circulation.sweep_reviews(review.due_on + dt.timedelta(days=1)) == 1  # the overdue reminder
    assert circulation.sweep_reviews(review.due_on + dt.timedelta(days=2)) == 0


def test_sweep_really_notifies(tree, users, regulation):
    from pbqms.notify.models import Notification

    Acknowledgement.objects.update(sent_at=timezone.now() - dt.timedelta(days=8))
    circulation.sweep_reviews()
    assert Notification.objects.filter(key=f"documents.unread:{regulation.current_id}").count() == 8
    assert Notification.objects.filter(key=f"documents.publish:{regulation.current_id}").count() == 8


def test_acknowledgement_and_who_has_not_read(tree, users, regulation):
    member = users[Role.MEMBER]
    v = regulation.current
    circulation.acknowledge(member, v)
    circulation.acknowledge(member, v)  # twice: no change
    assert circulation.acknowledgement_counts(v) == (1, 8)
    unread = {a.user.username for a in selectors.acknowledgements(v, unread_only=True)}
    assert "u_member" not in unread and len(unread) == 7
    outsider = accounts.create_user(None, username="nobody", password="x", validate=False)
    with pytest.raises(ValidationError, match="未发放"):
        circulation.acknowledge(outsider, v)


def test_periodic_review_outcomes(tree, users, regulation):
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_SECRETARY]
    review = PeriodicReview.objects.get(document=regulation)
    circulation.record_review(staff, review, outcome=ReviewOutcome.STILL_VALID, note="仍然适用")
    nxt = PeriodicReview.objects.get(document=regulation, reviewed_on__isnull=True)
    circulation.record_review(staff, nxt, outcome=ReviewOutcome.REVISE, note="按新条例修订")
    assert services.open_version(regulation).change_summary.startswith("定期评审")
    last = PeriodicReview.objects.get(document=regulation, reviewed_on__isnull=True)
    with pytest.raises(PermissionDenied):
        circulation.record_review(staff, last, outcome=ReviewOutcome.ABOLISH, note="合并")
    circulation.record_review(secretary, last, outcome=ReviewOutcome.ABOLISH, note="并入新制度")
    regulation.refresh_from_db()
    assert regulation.is_abolished and regulation.abolish_reason == "并入新制度"
    assert not VersionTerm.objects.filter(document=regulation).exists()
    assert regulation.current.status == VersionStatus.ABOLISHED


def test_scope_members_read_what_applies_to_them(tree, users, regulation, outside_doc):
    member = users[Role.MEMBER]
    assert set(scope.documents(member)) == {regulation}
    for role, user in users.items():
        assert outside_doc not in scope.documents(user), role
    # a draft-only document of SUB1 is seen by its editors, not by branch roles
    draft = services.create_document(users[Role.DEPARTMENT_STAFF], unit=tree.sub1, tier=Tier.REGULATION,
                                     title="草稿制度")
    assert draft in scope.documents(users[Role.COMMITTEE_SECRETARY])
    assert draft not in scope.documents(users[Role.BRANCH_SECRETARY])
    # a document of B02 applying only to B02 is not B01's
    b02 = services.create_document(None, unit=tree.b02, tier=Tier.REGULATION, title="二支部制度",
                                   applies_to=[tree.b02], purpose="x")
    publish_flow(b02, None, None)
    assert Document.objects.get(pk=b02.pk) not in scope.documents(member)
    assert Document.objects.get(pk=b02.pk) in scope.documents(users[Role.COMMITTEE_ADMIN])


def test_search_finds_words_inside_longer_text_within_scope(tree, users, regulation, outside_doc):
    member = users[Role.MEMBER]
    result = selectors.search(member, "发展党员")
    assert [h.version.document for h in result.hits] == [regulation]
    assert "<mark>发展党员</mark>" in result.hits[0].snippet
    assert selectors.search(member, "保密").total == 0  # only the outside document says 保密
    assert selectors.search(users[Role.COMMITTEE_SECRETARY], "党员大会 季度").total == 1
    assert selectors.search(member, "党员大会 不存在的词").total == 0
    # a partial word widens to the indexed words containing it
    assert selectors.search(member, "组织委").total == 1


def test_sweep_command_is_idempotent(tree, users, regulation):
    from io import StringIO

    from django.core.management import call_command

    Acknowledgement.objects.update(sent_at=timezone.now() - dt.timedelta(days=8))
    out = StringIO()
    call_command("sweep_documents", stdout=out)
    assert "8 action" in out.getvalue()
    out = StringIO()
    call_command("sweep_documents", stdout=out)
    assert "0 action" in out.getvalue()
