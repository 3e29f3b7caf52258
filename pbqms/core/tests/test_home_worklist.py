"""The home page is each role's work list (#20.2): every line says what is due, links to where it
is done, and the page stays within its query budget."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pbqms.accounts.models import Role
from pbqms.assessment.models import PeriodStatus
from pbqms.assessment.tests.conftest import make_setup
from pbqms.core import work
from pbqms.documents import services as documents
from pbqms.documents.models import Tier
from pbqms.documents.tests.conftest import TEXT, publish_flow
from pbqms.objectives import member_services
from pbqms.rectification.models import Notice
from pbqms.rectification.tests.factories import answered_notice, issued_notice

STAFF, SECRETARY, COMMITTEE, MEMBER = (Role.DEPARTMENT_STAFF, Role.BRANCH_SECRETARY, Role.COMMITTEE_SECRETARY,
                                       Role.MEMBER)


@pytest.fixture
def due(tree, users, admin_user):
    """Demo-like: B01 owes a notice 47 days overdue and another due in 5 days, has answered a third,
    has the year-end self-check open, a member target to approve and a document to acknowledge."""
    today = timezone.localdate()
    late = issued_notice(users[STAFF], tree.b01, 1)
    Notice.objects.filter(pk=late.pk).update(deadline=today - dt.timedelta(days=47))
    soon = issued_notice(users[STAFF], tree.b01, 1, deadline_days=5)
    answered = answered_notice(users[STAFF], users[SECRETARY], tree.b01, 1)
    setup = make_setup(tree, admin_user)
    quarter = setup.plan.periods.filter(kind="quarter", starts_on__lte=today, ends_on__gte=today).first()
    if quarter is not None:
        type(quarter).objects.filter(pk=quarter.pk).update(status=PeriodStatus.SCORING)
    mt = member_services.propose_member_target(users[MEMBER], tree.m01, year=today.year, category="work_task",
                                               title="带头完成安全生产任务", measure="全年无违章")
    doc = documents.create_document(users[STAFF], unit=tree.sub1, tier=Tier.REGULATION, title="党员大会制度",
                                    applies_to=[tree.sub1], book_part="党的自身建设", **TEXT)
    publish_flow(doc, users[STAFF], users[COMMITTEE])
    return {"late": late, "soon": soon, "answered": answered, "quarter": quarter, "mt": mt, "doc": doc}


def lines(client, user) -> dict[str, work.WorkItem]:
    client.force_login(user)
    r = client.get("/")
    assert r.status_code == 200
    return {i.key: i for i in list(r.context["items"]) + list(r.context["figures"])}, r.content.decode()


def test_branch_secretary_sees_what_is_due_with_links(client, tree, users, due):
    items, body = lines(client, users[SECRETARY])
    late = items["rect.overdue"]
    assert late.level == work.OVERDUE and late.count == 1
    assert "47" in late.text and late.url == f"/rectification/notices/{due['late'].pk}/"
    assert items["rect.soon"].url == f"/rectification/notices/{due['soon'].pk}/"
    assert items["obj.review"].url == "/objectives/units/B01/members/?state=proposed" and items["obj.review"].count == 1
    assert items["assess.self"].url.endswith("/units/B01/self/")
    assert "年底总结" in body or "self-check" in items["assess.self"].text or "自查" in items["assess.self"].text
    for key, item in items.items():
        assert f'href="{item.url}"' in body.replace("&amp;", "&"), key
    assert "已逾期" in body  # Chinese by default
    # each link opens for this user
    for item in items.values():
        assert client.get(item.url).status_code == 200, item.key


def test_department_sees_feedback_to_verify_sheets_to_score_and_overdue_units(client, tree, users, due):
    items, body = lines(client, users[STAFF])
    verify = items["rect.verify"]
    assert verify.count == 1 and verify.url == "/rectification/notices/?status=answered"
    if due["quarter"] is not None:
        score = items["assess.score"]
        assert score.count == 2 and score.url == f"/assessment/periods/{due['quarter'].pk}/"
    assert "rect.overdue" not in items  # the branch's line, not the department's
    for item in items.values():
        assert client.get(item.url).status_code == 200, item.key


def test_committee_sees_figures_and_letters(client, tree, users, due):
    items, body = lines(client, users[COMMITTEE])
    assert items["rect.figures"].level == work.FIGURE
    assert items["rect.figures"].url == "/rectification/dashboard/"
    assert "rect.overdue" not in items


def test_member_sees_own_targets_and_documents(client, tree, users, due):
    items, body = lines(client, users[MEMBER])
    assert items["obj.mine"].url == "/objectives/mine/" and items["obj.mine"].count == 1
    assert "rect.verify" not in items and "obj.review" not in items
    for item in items.values():
        assert client.get(item.url).status_code == 200, item.key


def test_unread_messages_link_to_the_inbox(client, tree, users, due):
    _items, body = lines(client, users[SECRETARY])
    assert 'data-key="notify.unread"' in body and 'href="/notifications/"' in body


def test_nothing_due_says_so(client, tree, users):
    client.force_login(users[Role.INTERNAL_AUDITOR])
    r = client.get("/")
    assert r.status_code == 200
    assert not r.context["items"]


@pytest.mark.parametrize("role", [COMMITTEE, STAFF, SECRETARY, Role.GROUP_LEADER, MEMBER])
def test_home_queries_are_bounded(client, tree, users, due, role, django_assert_max_num_queries):
    client.force_login(users[role])
    client.get("/")  # the first request after signing in also writes the session
    with django_assert_max_num_queries(15):
        r = client.get("/")
    assert r.status_code == 200


def test_capped_counts_in_one_query(tree, django_assert_num_queries):
    from pbqms.orgs.models import Unit

    with django_assert_num_queries(1):
        got = work.capped_counts({"all": Unit.objects.all(), "b": Unit.objects.filter(code__startswith="B")}, cap=5)
    assert got == {"all": (5, True), "b": (4, False)}  # 7 units; B01, B01G1, B02, B03
