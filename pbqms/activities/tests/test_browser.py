"""Browser tests of the organisational-life screens: Playwright on Debian's chromium, against the live
server (which runs on the real date, so the data is laid down relative to today).

Each screen gets a test and a screenshot in screenshots/life-*.png: the record form with its
attendance checklist, a record's page, the calendar, the heat map, the plan form and the plan list,
a member's participation and a record book.
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pbqms.accounts.models import Role
from pbqms.activities import engine, services
from pbqms.activities.models import ActivityKind, ActivityPlan, ActivityRecord, PlanStatus
from pbqms.core import clock
from pbqms.core.tests.test_browser import sign_in
from pbqms.members import services as members
from pbqms.members.models import PartyStatus
from pbqms.orgs import services as orgs
from pbqms.orgs.models import UnitKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "screenshots"
PEOPLE = [("赵六", "M", PartyStatus.FULL), ("孙丽", "F", PartyStatus.FULL), ("周强", "M", PartyStatus.PROBATIONARY),
          ("吴敏", "F", PartyStatus.FULL), ("郑伟", "M", PartyStatus.FULL)]


@pytest.fixture(autouse=True)
def default_rules(db):
    """The default rules (a data migration adds them; a transactional test flushes them)."""
    from django.apps import apps

    importlib.import_module("pbqms.activities.migrations.0002_default_rules").add(apps, None)


@pytest.fixture(autouse=True)
def file_root(settings, tmp_path):
    settings.PBQMS_FILE_ROOT = tmp_path / "files"


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"life-{name}.png"), full_page=True)


def assert_fits_the_phone(page) -> None:
    """The page does not scroll sideways."""
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@pytest.fixture
def branch(tree, users):
    """B01 with six members (two in its group), and last month's meetings and plan."""
    people = [tree.m01] + [members.create_member(None, unit=tree.b01, name=n, gender=g, status=s,
                                                 group=tree.g1 if i < 1 else None)
                           for i, (n, g, s) in enumerate(PEOPLE)]
    secretary = users[Role.BRANCH_SECRETARY]
    month = last_month()

    def held(unit, kind, day, topic, absent=None, **kw):
        roster = services.roster_of(unit)
        attendance = {m.pk: services.Presence(m.pk != (absent.pk if absent else None), "出差" if absent else "")
                      for m in roster}
        return services.record_activity(secretary, services.RecordInput(
            unit=unit, kind=kind, held_on=month.replace(day=day), topic=topic, place="党员活动室",
            host=tree.m01, attendance=attendance, **kw))

    held(tree.b01, ActivityKind.COMMITTEE_MEETING, 5, "研究发展党员和党费收缴工作")
    held(tree.b01, ActivityKind.THEME_DAY, 18, "主题党日：走进红色教育基地", absent=people[3])
    held(tree.g1, ActivityKind.GROUP_MEETING, 12, "党小组学习新修订的条例")
    held(tree.b01, ActivityKind.PARTY_LECTURE, 25, "书记讲党课：以高质量党建引领安全生产")
    with clock.as_of(month):
        plan = services.file_plan(secretary, unit=tree.b01, period=f"{month:%Y-%m}", items=[
            services.PlanItem(ActivityKind.COMMITTEE_MEETING, month.replace(day=5), "研究发展党员和党费收缴工作"),
            services.PlanItem(ActivityKind.THEME_DAY, month.replace(day=18), "主题党日：走进红色教育基地"),
            services.PlanItem(ActivityKind.BRANCH_ASSEMBLY, month.replace(day=27), "支部党员大会：讨论预备党员转正")])
    return {"people": people, "plan": plan, "month": month}


def test_record_an_activity_with_the_attendance_checklist(page, users, tree, branch):
    sign_in(page, "u_branch_secretary")
    page.wait_for_url(page.base + "/")
    day = timezone.localdate()
    page.goto(page.base + f"/activities/units/B01/records/new/?kind=committee&day={day:%Y-%m-%d}")
    # a committee meeting expects the committee serving that day (张三); the others may attend, unticked
    assert page.locator("input[name=present]:checked").count() == 1
    assert page.locator(".att-others input[name=present]").count() == 5
    page.locator(".att-others .att-row", has_text="孙丽").locator("input[name=present]").check()
    shot(page, "record-form-committee")
    page.select_option("select[name=kind]", "assembly")  # the checklist follows the kind (htmx)
    expect(page.locator(".att-others")).to_have_count(0)
    assert page.locator("input[name=present]:checked").count() == 6
    page.fill("input[name=start_time]", "14:30")
    page.fill("input[name=place]", "三楼会议室")
    page.fill("input[name=topic]", "研究年度工作总结和民主评议安排")
    page.select_option("select[name=host]", label="张三")
    page.select_option("select[name=recorder]", label="孙丽")
    page.fill("textarea[name=minutes]", "一、通报全年党建工作完成情况。\n二、研究民主评议党员工作安排。")
    page.fill("textarea[name=resolutions]", "12月下旬召开组织生活会，开展民主评议党员。")
    row = page.locator(".att-row", has_text="周强")
    reason = row.locator(".att-reason input")
    expect(reason).not_to_be_visible()
    row.locator("input[name=present]").uncheck()
    expect(reason).to_be_visible()  # an untick asks for the reason inline
    shot(page, "record-form")
    page.set_viewport_size({"width": 390, "height": 800})
    shot(page, "record-form-mobile")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("main button[type=submit].primary").click()
    page.wait_for_selector("#attendance .errorlist")
    assert "周强" in page.locator("#attendance .errorlist").inner_text()
    assert "缺席原因" in page.locator("#attendance .errorlist").inner_text()
    assert not ActivityRecord.objects.filter(topic="研究年度工作总结和民主评议安排").exists()
    shot(page, "record-form-error")
    page.locator(".att-row", has_text="周强").locator(".att-reason input").fill("外出培训")
    page.locator("main button[type=submit].primary").click()
    page.wait_for_selector(".msg-success")
    rec = ActivityRecord.objects.get(topic="研究年度工作总结和民主评议安排")
    assert (rec.expected, rec.present) == (6, 5)
    main = page.locator("main").inner_text()
    assert "外出培训" in main and "83.3%" in main
    shot(page, "record")


def test_the_branch_calendar(page, users, tree, branch):
    month = branch["month"]
    engine.evaluate(start=month, end=timezone.localdate())
    sign_in(page, "u_branch_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/activities/")
    page.wait_for_url("**/activities/units/B01/calendar/")
    page.goto(page.base + f"/activities/units/B01/calendar/?month={month:%Y-%m}")
    cal = page.locator("table.cal")
    assert cal.locator(".cal-chip.rec").count() == 4
    assert cal.locator(".cal-chip.plan").count() == 3 and cal.locator(".cal-chip.plan.held").count() == 2
    side = page.locator(".life-side").inner_text()
    assert "支委会每月至少召开1次" in side and "1/1" in side
    shot(page, "calendar")
    page.set_viewport_size({"width": 390, "height": 800})
    page.reload()
    assert_fits_the_phone(page)
    chips = page.locator("table.cal .cal-chip.rec")
    assert chips.count() == 4
    for i in range(4):  # every day with a meeting shows, whatever its weekday
        box = chips.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    shot(page, "calendar-mobile")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    cal.locator(".cal-chip.rec", has_text="走进红色教育基地").click()
    page.wait_for_selector("#attendance")
    assert "出差" in page.locator("#attendance").inner_text()


def _spread(tree, n: int) -> None:
    """More branches under SUB1, holding their meetings in some months and not in others."""
    year = last_month().year
    months = range(1, last_month().month + 1)
    rows = []
    for i in range(n):
        name = f"{['采煤', '掘进', '机电', '运输', '通风', '洗选'][i % 6]}{'一二三'[i // 6 % 3]}区党支部"
        unit = orgs.create_unit(None, code=f"X{i:02d}", name=name, kind=UnitKind.BRANCH, parent=tree.sub1, order=10 + i)
        for m in months:
            if (m + i) % (i % 4 + 2):
                rows.append(ActivityRecord(unit=unit, org_path=unit.path, kind=ActivityKind.COMMITTEE_MEETING,
                                           held_on=dt.date(year, m, 8), topic="支委会", expected=7, present=6,
                                           attendance_rate=85.7))
            if (m * 3 + i) % 5:
                rows.append(ActivityRecord(unit=unit, org_path=unit.path, kind=ActivityKind.THEME_DAY,
                                           held_on=dt.date(year, m, 20), topic="主题党日", expected=7, present=7,
                                           attendance_rate=100))
    ActivityRecord.objects.bulk_create(rows)


def test_the_committee_heat_map(page, users, tree, branch):
    _spread(tree, 12)
    year = last_month().year
    engine.evaluate(start=dt.date(year, 1, 1), end=timezone.localdate())
    sign_in(page, "u_committee_admin")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/activities/")
    page.wait_for_url("**/activities/units/SUB1/heatmap/")
    page.goto(page.base + f"/activities/units/SUB1/heatmap/?year={year}")
    table = page.locator("table.heat")
    assert table.locator("tbody tr").count() == 15  # the total and 14 branches
    assert table.locator(".heat-cell.hm5").count() > 0 and table.locator(".heat-cell.hm1").count() > 0
    assert "第三党支部" not in page.locator("main").inner_text()
    shot(page, "heatmap")
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(page.base + "/activities/units/SUB1/heatmap/")  # this year: the current month shows
    assert_fits_the_phone(page)
    for cell in (page.locator("table.heat thead th.heat-now"), page.locator("table.heat thead th.heat-year"),
                 page.locator("table.heat tbody tr").first.locator("td.heat-now")):
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    shot(page, "heatmap-mobile")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(page.base + f"/activities/units/SUB1/heatmap/?year={year}")
    table.locator("a", has_text="第一党支部").click()
    page.wait_for_url("**/activities/units/B01/calendar/")


def test_file_a_plan_and_the_department_reviews_it(page, users, tree, branch):
    today = timezone.localdate()
    sign_in(page, "u_branch_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + f"/activities/units/B01/plans/new/?period={today:%Y-%m}")
    lines = page.locator("#plan-lines tbody tr")
    assert lines.count() == 3
    page.locator("button", has_text="添加一行").click()
    expect(page.locator("#plan-lines tbody tr")).to_have_count(4)
    last = today.replace(day=28)
    plans = [("committee", today.replace(day=max(today.day, 3)), "研究年度党建工作总结"),
             ("life_meeting", today.replace(day=max(today.day, 20)), "召开年度组织生活会"),
             ("review", today.replace(day=max(today.day, 22)), "开展民主评议党员"),
             ("theme_day", last, "主题党日：重温入党誓词")]
    for i, (kind, day, topic) in enumerate(plans):
        row = lines.nth(i)
        row.locator("select[name=line-kind]").select_option(kind)
        row.locator("input[name=line-date]").fill(day.isoformat())
        row.locator("input[name=line-topic]").fill(topic)
    shot(page, "plan-form")
    page.locator("main button[type=submit].primary").click()
    page.wait_for_selector(".msg-success")
    plan = ActivityPlan.objects.get(unit=tree.b01, period=f"{today:%Y-%m}")
    assert plan.items.count() == 4

    page.context.clear_cookies()
    sign_in(page, "u_department_staff")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/activities/plans/")
    assert page.locator("table.plan-table tbody tr").count() == 2
    shot(page, "plans")
    page.locator("table.plan-table tbody tr", has_text=plan.period).locator("a.btn", has_text="审核").click()
    page.fill("textarea[name=comment]", "同意。组织生活会前要开展谈心谈话，广泛征求意见。")
    page.locator("#review button[type=submit]").click()
    page.wait_for_selector(".msg-success")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REVIEWED
    shot(page, "plan")


def test_a_members_participation(page, users, tree, branch):
    sign_in(page, "u_member")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + "/activities/")
    page.wait_for_url("**/activities/my/")
    main = page.locator("main").inner_text()
    assert "张三" in main and "100%" in main and "党小组学习新修订的条例" in main
    shot(page, "my")
    page.context.clear_cookies()
    sign_in(page, "u_branch_secretary")
    page.wait_for_url(page.base + "/")
    absent = branch["people"][3]
    page.goto(page.base + f"/activities/members/{absent.pk}/?year={branch['month'].year}")
    main = page.locator("main").inner_text()
    # the committee meeting: attended without a vote (列席), not counted — one of two meetings expected
    assert absent.name in main and "出差" in main and "50%" in main and "列席" in main
    shot(page, "member")


def test_a_record_book(page, users, tree, branch):
    sign_in(page, "u_branch_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + f"/activities/units/B01/books/?year={branch['month'].year}")
    shot(page, "books")
    page.locator(".book-card h2 a", has_text="支部书记工作计划记录本").click()
    page.wait_for_selector(".book-paper")
    assert "走进红色教育基地" in page.locator(".book-paper").inner_text()
    shot(page, "book")


def test_correct_a_records_attendance_afterwards(page, users, tree, branch):
    """The correction screen (20.1): the stored attendance comes ticked as recorded; an absence
    entered by mistake is ticked present, the reason given, and the record's figures follow."""
    record = ActivityRecord.objects.get(unit=tree.b01, kind=ActivityKind.THEME_DAY)
    absent = branch["people"][3]
    assert (record.present, record.expected) == (5, 6)
    sign_in(page, "u_branch_secretary")
    page.wait_for_url(page.base + "/")
    page.goto(page.base + f"/activities/records/{record.pk}/attendance/")
    row = page.locator(".att-row", has_text=absent.name)
    expect(row.locator("input[name=present]")).not_to_be_checked()
    page.locator("main button[type=submit].primary").click()
    expect(page.get_by_text("请说明更正的原因。")).to_be_visible()  # no reason: refused, nothing changed
    record.refresh_from_db()
    assert record.present == 5
    page.locator(".att-row", has_text=absent.name).locator("input[name=present]").check()
    page.fill("input[name=reason]", "误记为缺席，本人当天准时参加")
    shot(page, "attendance-correction")
    page.set_viewport_size({"width": 390, "height": 800})
    assert_fits_the_phone(page)
    shot(page, "attendance-correction-mobile")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("main button[type=submit].primary").click()
    expect(page.locator(".msg-success")).to_be_visible()
    record.refresh_from_db()
    assert (record.present, record.expected) == (6, 6)
