"""按期整改率 (#20.4): a finding counts as rectified on time when the feedback that was accepted
arrived by the deadline in force, however late the re-check and the closing came. The stored
totals (rect:<year>:ontime) kept by the services agree with a full recount, and the dashboard,
the ledger and the dashboard's .xlsx show the same rate."""

from __future__ import annotations

import datetime as dt
import io

from django.urls import reverse
from openpyxl import load_workbook

from pbqms.accounts.models import Role
from pbqms.core import clock
from pbqms.orgs.models import UnitTally
from pbqms.rectification import services, stats
from pbqms.rectification.models import Finding

from .factories import SECRETARY, STAFF, answers, finding

YEAR = 2026


def _notice(staff, unit, item, *, issued: dt.date, deadline: dt.date):
    with clock.as_of(issued):
        f = finding(staff, unit, item=item, found_on=issued)
        notice = services.draft_notice(staff, unit=unit, findings=[f], title="督查问题整改", requirement="逐条整改。",
                                       deadline=deadline)
        return services.issue_notice(staff, notice)


def _answer(secretary, notice, day: dt.date):
    with clock.as_of(day):
        services.submit_feedback(secretary, notice, answers(notice, completed_on=day))


def _accept(staff, notice, day: dt.date):
    with clock.as_of(day):
        for f in notice.findings.all():
            services.verify_finding(staff, f, effective=True, note="复查属实")
        services.close_notice(staff, notice)


def _stored() -> set[tuple[int, str, int]]:
    return set(UnitTally.objects.filter(key__startswith="rect:").exclude(n=0).values_list("unit_id", "key", "n"))


def test_on_time_means_feedback_by_the_deadline_then_accepted(client, users, tree):
    staff, secretary = users[STAFF], users[SECRETARY]
    # like 034号: answered 09-20 against a 09-24 deadline, re-checked and closed on 09-28 → on time
    early = _notice(staff, tree.b01, "DJ-1.1", issued=dt.date(YEAR, 9, 10), deadline=dt.date(YEAR, 9, 24))
    _answer(secretary, early, dt.date(YEAR, 9, 20))
    _accept(staff, early, dt.date(YEAR, 9, 28))
    # answered two days after its deadline, accepted at once → late
    late = _notice(staff, tree.b01, "DJ-1.2", issued=dt.date(YEAR, 9, 10), deadline=dt.date(YEAR, 9, 24))
    _answer(secretary, late, dt.date(YEAR, 9, 26))
    _accept(staff, late, dt.date(YEAR, 9, 26))
    # returned once with a new deadline; the second answer is by the new one → on time
    returned = _notice(staff, tree.b01, "DJ-1.3", issued=dt.date(YEAR, 9, 1), deadline=dt.date(YEAR, 9, 10))
    _answer(secretary, returned, dt.date(YEAR, 9, 9))
    with clock.as_of(dt.date(YEAR, 9, 12)):
        services.return_notice(staff, returned, reason="措施不具体", deadline=dt.date(YEAR, 9, 30))
    _answer(secretary, returned, dt.date(YEAR, 9, 29))
    _accept(staff, returned, dt.date(YEAR, 10, 8))
    # answered in time but not accepted yet: not counted (neither closed nor on time)
    waiting = _notice(staff, tree.b01, "DJ-1.4", issued=dt.date(YEAR, 9, 10), deadline=dt.date(YEAR, 9, 24))
    _answer(secretary, waiting, dt.date(YEAR, 9, 15))

    by_item = {f.item_code: f for f in Finding.objects.all()}
    assert [stats.is_on_time(by_item[i]) for i in ("DJ-1.1", "DJ-1.2", "DJ-1.3", "DJ-1.4")] == [
        True, False, True, False]
    assert by_item["DJ-1.1"].answered_on == dt.date(YEAR, 9, 20)
    assert by_item["DJ-1.1"].closed_on == dt.date(YEAR, 9, 28)
    totals = stats.read([tree.b01.pk, tree.sub1.pk], YEAR)
    for uid in (tree.b01.pk, tree.sub1.pk):
        assert (totals[uid]["closed"], totals[uid]["ontime"], totals[uid]["ontime_rate"]) == (3, 2, 66.7)
    # the totals the services kept are those a recount computes
    kept = _stored()
    stats.recount()
    assert _stored() == kept

    client.force_login(users[Role.COMMITTEE_SECRETARY])
    page = client.get(reverse("rectification:dashboard", args=["SUB1"]) + f"?year={YEAR}").content.decode()
    assert "66.7%" in page and "按期整改率" in page and "在当时有效的期限内" in page
    ledger = client.get(reverse("rectification:ledger", args=["B01"]) + f"?year={YEAR}").content.decode()
    assert "66.7%" in ledger
    r = client.get(reverse("rectification:dashboard_xlsx", args=["SUB1"]) + f"?year={YEAR}")
    table = list(load_workbook(io.BytesIO(b"".join(r.streaming_content))).worksheets[0].iter_rows(values_only=True))
    assert table[0][5] == "按期整改率（%）"
    by_unit = {row[0]: row for row in table[1:]}
    assert by_unit["第一党支部"][4:6] == (3, 66.7)
