"""Every page of the demo, in Chinese, as the committee, the department and a branch secretary
(#20.3): no figure with more decimals than its precision, no internal all-caps code (GROUP_M), no
English label left untranslated; error pages in the site's layout and language."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import RequestFactory
from django.utils import translation

from pbqms.accounts.models import User
from pbqms.core.tests.test_scope_walk import web_routes

LONG_FIGURE = re.compile(r"\d+\.\d{4,}")
CODE = re.compile(r"\b[A-Z]{2,}_[A-Z]+\b")
# English words and labels that must never reach a Chinese page (a word of a code or a username
# is not among them)
ENGLISH = ["item result", "peer group member", "star change", "Standard:", "Forbidden", "Not Found",
           "Server Error", "Bad Request", "Submit", "Cancel", "Search", "Status", "Overdue", "Draft", "Published",
           "Findings", "Members", "Score", "Total", "Year", "Unit"]
ENGLISH_RE = re.compile(r"(?<![A-Za-z_./-])(" + "|".join(re.escape(w) for w in ENGLISH) + r")(?![A-Za-z_])")
SKIP_SUFFIXES = (".xlsx", ".docx", ".pdf", "docx/", "pdf/")


class Text(HTMLParser):
    """The visible text of a page: text nodes outside script and style, and the labels a reader
    sees without them being text (title, placeholder, aria-label, value of buttons)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def visible(html: str) -> list[str]:
    p = Text()
    p.feed(html)
    return p.parts


def problems(html: str) -> list[str]:
    out = []
    for text in visible(html):
        for pattern, what in ((LONG_FIGURE, "long figure"), (CODE, "internal code"), (ENGLISH_RE, "English")):
            if m := pattern.search(text):
                out.append(f"{what}: {m.group(0)!r} in {text[:120]!r}")
    return out


def demo_values() -> dict[str, str]:
    """A value for each URL parameter: records of 综采一区党支部 (B01), which all three roles read."""
    from pbqms.activities.models import ActivityPlan, ActivityRecord
    from pbqms.assessment.models import Period, Plan, Scheme, Sheet, StarRating
    from pbqms.documents.models import Document
    from pbqms.members.models import Member
    from pbqms.objectives.models import MemberTarget, Objective, ResponsibilityLetter, Target
    from pbqms.rectification.models import Finding, Notice, PreventiveAction

    def first(qs) -> str:
        row = qs.order_by("pk").values_list("pk", flat=True).first()
        return str(row or 0)

    coded = Finding.objects.filter(unit__code="B01", item_code__regex=r"^[A-Z]+_[A-Z]+$")
    scored = Sheet.objects.filter(unit__code="B01", scores__auto=True, scores__reason__contains="%").distinct()
    period = (Period.objects.filter(status="published", scheme__target_kind="branch").order_by("-ends_on").first())
    return {
        "code": "B01", "pk": first(Member.objects.filter(unit__code="B01")),
        "member_pk": first(Member.objects.filter(unit__code="B01")),
        "accounts:pk": first(User.objects.filter(username="member01")), "user_pk": "0", "account_pk": "0",
        "assignment_pk": "0", "job_pk": "0", "token": "00000000-0000-0000-0000-000000000000",
        "finding_pk": first(coded) if coded.exists() else first(Finding.objects.filter(unit__code="B01")),
        "notice_pk": first(Notice.objects.filter(unit__code="B01")),
        "action_pk": first(PreventiveAction.objects.filter(item_code__contains="_")),
        "record_pk": first(ActivityRecord.objects.filter(unit__code="B01")),
        "activities:plan_pk": first(ActivityPlan.objects.filter(unit__code="B01")),
        "assessment:plan_pk": str(period.plan_id if period else first(Plan.objects.all())),
        "book": "branch-book", "number": "1",
        "documents:pk": first(Document.objects.filter(current__isnull=False)),
        "objective_pk": first(Objective.objects.all()),
        "target_pk": first(Target.objects.filter(unit__code="B01")),
        "mt_pk": first(MemberTarget.objects.filter(unit__code="B01")),
        "letter_pk": first(ResponsibilityLetter.objects.filter(unit__code="B01")),
        "scheme_pk": str(period.scheme_id if period else first(Scheme.objects.all())),
        "item_pk": "0",
        "period_pk": str(period.pk if period else 0),
        "sheet_pk": first(scored) if scored.exists() else first(Sheet.objects.filter(unit__code="B01")),
        "rating_pk": first(StarRating.objects.filter(unit__code="B01")),
    }


def fill(route: str, name: str, values: dict[str, str]) -> str:
    ns = name.split(":")[0]

    def value(m: re.Match[str]) -> str:
        key = m.group(1)
        return values.get(f"{ns}:{key}", values.get(key, "0"))

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)


@pytest.fixture
def demo(db):
    from pbqms.demo import builder

    builder.build_demo(log=lambda _m: None)


def test_every_page_of_the_demo_reads_well_in_chinese(client, demo):
    values = demo_values()
    found: list[str] = []
    seen = 0
    for username in ("committee", "assessor", "branch01"):
        client.force_login(User.objects.get(username=username))
        for route, name, _params in web_routes():
            url = fill(route, name, values)
            if url.endswith(SKIP_SUFFIXES) or name.startswith(("accounts:logout", "accounts:language")):
                continue
            r = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
            if r.status_code != 200 or not r.get("Content-Type", "").startswith("text/html"):
                continue
            seen += 1
            found += [f"{username} {url}: {p}" for p in problems(r.content.decode())]
    assert seen > 150
    assert not found, "\n".join(sorted(set(found)))


def test_problems_are_caught():
    assert problems("<p>根据系统记录计算：90.900000000000005684341886080801486968994140625%</p>")
    assert problems("<td>GROUP_M</td>") and problems("<option>item result</option>")
    assert not problems("<p>90.9%</p><script>var a = 'GROUP_M';</script><td>DJ04 三会一课</td>")


def test_error_pages_speak_the_site_language(client, tree, users):
    from pbqms.accounts.models import Role

    client.force_login(users[Role.BRANCH_SECRETARY])
    r = client.get("/audit/")  # a branch secretary may not read the audit log
    assert r.status_code == 403
    body = r.content.decode()
    assert "403 Forbidden" not in body and 'class="topbar"' in body and "不允许" in body
    r = client.get("/no-such-page/")
    assert r.status_code == 404 and 'class="topbar"' in r.content.decode() and "页面不存在" in r.content.decode()


@pytest.mark.parametrize("code", ["400", "500"])
def test_400_and_500_render_without_a_request_context(code):
    from django.views import defaults

    request = RequestFactory().get("/")
    with translation.override("zh-hans"):
        r = defaults.server_error(request) if code == "500" else defaults.bad_request(request, Exception())
    body = r.content.decode()
    assert r.status_code == int(code) and 'class="topbar"' in body and "首页" in body
    assert ("出错" if code == "500" else "无法理解") in body
