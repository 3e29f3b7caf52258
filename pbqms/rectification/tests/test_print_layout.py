"""The printed two-part form as laid out (#20.10, #22.11): the problem column keeps its width
whatever the standard's length, no header or cell wraps to a lonely character, the feedback part
starts its own page, and the re-check line names the person, not the login."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from pbqms.accounts.models import Role
from pbqms.core.tests.pdf_layout import cell_width_mm, lonely_characters, page_lines, page_of
from pbqms.rectification import exports, selectors, services
from pbqms.rectification.models import Notice

from .factories import answers, today

pytestmark = pytest.mark.django_db

PROBLEMS = [
    ("DJ03", "会前按规定向政治工作部报备议题，会议做到有计划、有主题、有记录；记录载明时间、地点、主持人、"
             "应到实到人数、缺席人员及原因、议题、讨论情况和决议",
     "当月支委会记录缺失，未见会议签到表，议题未按规定报备"),
    ("DJ12", "按月足额收缴党费，台账清楚", "党费收缴台账未按月登记，个别党员欠缴"),
]


@pytest.fixture(autouse=True)
def file_root(settings, tmp_path):
    settings.PBQMS_FILE_ROOT = tmp_path / "files"


@pytest.fixture
def notice(users, tree) -> Notice:
    staff, secretary = users[Role.DEPARTMENT_STAFF], users[Role.BRANCH_SECRETARY]
    staff.display_name = "赵复查"
    staff.save(update_fields=["display_name"])
    found = [services.record_finding(staff, services.FindingInput(
        unit=tree.b01, description=text, found_on=today(), item_code=code, standard=standard))
        for code, standard, text in PROBLEMS]
    notice = services.draft_notice(staff, unit=tree.b01, findings=found, title="党建工作督查问题整改",
                                   requirement="请对照问题逐条整改并反馈。", deadline=today() + dt.timedelta(days=10))
    services.issue_notice(staff, notice)
    services.receive_notice(secretary, notice)
    services.submit_feedback(secretary, notice, answers(Notice.objects.get(pk=notice.pk)))
    for f in Notice.objects.get(pk=notice.pk).findings.all():
        services.verify_finding(staff, f, effective=True, note="已补齐")
    return Notice.objects.get(pk=notice.pk)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_problem_column_keeps_its_width(notice, lang):
    with translation.override(lang):
        document = exports.notice_print(notice, selectors.notice_detail(notice))
    problem = PROBLEMS[0][2]
    assert cell_width_mm(document, problem[:6]) >= 55  # was 15 mm: two characters a line
    assert lonely_characters(document) == []  # was 存在问 / 题
    assert page_of(document, problem) == page_of(document, PROBLEMS[1][2]) == 1
    assert page_of(document, "（第二联：整改反馈单）" if lang == "zh-hans" else "(Part two") == 2


def test_the_recheck_line_names_the_person(notice):
    from .test_exports import docx_text

    detail = selectors.notice_detail(notice)
    with translation.override("zh-hans"):
        text = "".join("".join(lines) for lines in page_lines(exports.notice_print(notice, detail)))
        docx = docx_text(exports.notice_docx(notice, detail))
    for printed in (text, docx):
        assert "赵复查" in printed and "u_department_staff" not in printed
