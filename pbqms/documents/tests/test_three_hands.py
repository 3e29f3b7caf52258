"""Three hands (#22.10): a version is written (编制), reviewed (审核) and approved (批准) by three
different people; a procedure goes for review only with its four sections; a version takes force
no earlier than its approval. The three names show on the version page and in the printed book."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from pbqms.accounts.models import Role
from pbqms.core import clock
from pbqms.documents import exports, selectors, services
from pbqms.documents.models import ApprovalStep, DocumentVersion, Tier, VersionStatus

from .conftest import TEXT

pytestmark = pytest.mark.django_db


def _in_review(users, tree, tier=Tier.REGULATION, **text):
    staff = users[Role.DEPARTMENT_STAFF]
    doc = services.create_document(staff, unit=tree.sub1, tier=tier, title="党费收缴使用管理制度",
                                   **(text or TEXT))
    services.submit(staff, doc.versions.get())
    return doc, doc.versions.get()


@pytest.mark.parametrize("lang,expected", [
    ("zh-hans", "三人分工：文件版本的编制、审核、批准须由三个不同的人完成。您审核了此版本，须由另一位批准人批准。"),
    ("en", "Three hands: a version is written, reviewed and approved by three different people. You reviewed "
           "this version, so another approver must approve it."),
])
def test_the_reviewer_may_not_approve(users, tree, lang, expected):
    doc, v = _in_review(users, tree)
    secretary = users[Role.COMMITTEE_SECRETARY]
    services.review(secretary, v, passed=True, comment="同意")
    with translation.override(lang), pytest.raises(ValidationError) as e:
        services.approve(secretary, v, comment="批准")
    assert e.value.messages == [expected]
    v.refresh_from_db()
    assert v.status == VersionStatus.IN_REVIEW and not v.steps.filter(kind="approve").exists()
    # another approver may
    services.review(users[Role.COMMITTEE_ADMIN], v, passed=True)
    with pytest.raises(ValidationError, match="三人分工"):
        services.approve(users[Role.COMMITTEE_ADMIN], v)
    # the secretary's own review is no longer the one that stands
    services.approve(secretary, v)
    v.refresh_from_db()
    assert v.status == VersionStatus.APPROVED
    hands = selectors.hands(v)
    assert (hands["author"], hands["reviewer"], hands["approver"]) == (
        users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_ADMIN], secretary)


@pytest.mark.parametrize("lang,expected", [
    ("zh-hans", "程序文件须写齐目的、范围、职责、工作程序四部分后方可送审，尚缺：范围、职责。"),
    ("en", "A procedure goes for review only with its four sections (purpose, scope, duties, working procedure); "
           "missing: Scope, Duties."),
])
def test_a_procedure_needs_its_four_sections(users, tree, lang, expected):
    staff = users[Role.DEPARTMENT_STAFF]
    doc = services.create_document(staff, unit=tree.sub1, tier=Tier.PROCEDURE, title="发展党员控制程序",
                                   purpose="规范发展党员工作。", procedure="一、受理入党申请。")
    v = doc.versions.get()
    with translation.override(lang), pytest.raises(ValidationError) as e:
        services.submit(staff, v)
    assert e.value.messages == [expected]
    v.refresh_from_db()
    assert v.status == VersionStatus.DRAFT and v.submitted_at is None
    services.edit_draft(staff, v, scope_text="适用于各党支部。", duties="党支部书记负责。")
    services.submit(staff, v)
    v.refresh_from_db()
    assert v.status == VersionStatus.IN_REVIEW
    # a regulation needs no such sections
    reg = services.create_document(staff, unit=tree.sub1, tier=Tier.REGULATION, title="谈心谈话制度",
                                   procedure="每年谈心一次。")
    services.submit(staff, reg.versions.get())


@pytest.mark.parametrize("lang,expected", [("zh-hans", "文件版本不得早于批准日期生效"),
                                           ("en", "A version cannot take force before it is approved")])
def test_no_force_before_approval(users, tree, lang, expected):
    doc, v = _in_review(users, tree)
    services.review(users[Role.COMMITTEE_ADMIN], v, passed=True)
    services.approve(users[Role.COMMITTEE_SECRETARY], v)
    earlier = clock.today() - dt.timedelta(days=30)
    with translation.override(lang), pytest.raises(ValidationError) as e:
        services.publish(users[Role.DEPARTMENT_STAFF], v, effective_from=earlier)
    assert expected in e.value.messages[0]
    v.refresh_from_db()
    assert v.status == VersionStatus.APPROVED and v.effective_from is None and v.published_at is None
    # approved (as of) forty days ago, it may take force thirty days ago
    ApprovalStep.objects.filter(version=v).update(at=clock.now() - dt.timedelta(days=40))
    services.publish(users[Role.DEPARTMENT_STAFF], v, effective_from=earlier)
    v.refresh_from_db()
    assert v.status == VersionStatus.PUBLISHED and v.effective_from == earlier


def test_steps_follow_the_clock(users, tree):
    """Steps and dates follow core.clock, so history can be laid down as of past days."""
    doc, v = _in_review(users, tree)
    day = clock.today() - dt.timedelta(days=60)
    with clock.as_of(day):
        services.review(users[Role.COMMITTEE_ADMIN], v, passed=True)
    with clock.as_of(day + dt.timedelta(days=2)):
        services.approve(users[Role.COMMITTEE_SECRETARY], v)
        services.publish(users[Role.DEPARTMENT_STAFF], v, effective_from=day + dt.timedelta(days=2))
    v.refresh_from_db()
    hands = selectors.hands(v)
    assert (hands["reviewed_on"], hands["approved_on"]) == (day, day + dt.timedelta(days=2))
    assert v.status == VersionStatus.PUBLISHED and doc.versions.get().pk == v.pk
    doc.refresh_from_db()
    assert doc.current_id == v.pk


def test_the_version_page_and_the_book_name_the_three_hands(client, tree, users, regulation,
                                                            django_assert_max_num_queries):
    staff, admin, secretary = (users[Role.DEPARTMENT_STAFF], users[Role.COMMITTEE_ADMIN],
                               users[Role.COMMITTEE_SECRETARY])
    for u, name in ((staff, "张编制"), (admin, "李审核"), (secretary, "王批准")):
        u.display_name = name
        u.save(update_fields=["display_name"])
    client.force_login(users[Role.MEMBER])
    v = regulation.current
    with django_assert_max_num_queries(18):
        r = client.get(reverse("documents:version", args=[regulation.pk, v.number]))
    body = r.content.decode()
    assert r.status_code == 200
    assert "编制" in body and "审核" in body and "批准" in body
    assert body.index("张编制") < body.index("李审核") < body.index("王批准")
    r = client.get(regulation.get_absolute_url())
    assert "李审核" in r.content.decode()
    # the printed book: one query for every document's steps, whatever the number of documents
    with django_assert_max_num_queries(6):
        docs = selectors.book(secretary, tree.sub1)
        html = exports.book_html(tree.sub1, docs)
    assert "张编制" in html and "李审核" in html and "王批准" in html
    assert DocumentVersion.objects.filter(pk=v.pk, author=staff).exists()
