"""The printed responsibility letter (#20.10, #22.11): a branch's targets and both signatures on
one landscape page, no cell wrapped to a lonely character, and no signature without a signer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from pbqms.core.tests.pdf_layout import lonely_characters, page_lines, page_of
from pbqms.objectives import letters, printing, services
from pbqms.objectives.demo import OBJECTIVES
from pbqms.objectives.models import LetterState, ResponsibilityLetter

pytestmark = pytest.mark.django_db
YEAR = 2026


@pytest.fixture
def letter(tree):
    """B01's letter over the demo's seven objectives (the texts a mine really writes)."""
    services.save_policy(None, tree.sub1, year=YEAR, text="围绕中心抓党建，抓好党建促发展",
                         effective_on=dt.date(YEAR, 1, 1), member_targets_due=dt.date(YEAR, 3, 31))
    for title, indicator, kind, value, mu, responsible, check, (task, person, share) in OBJECTIVES:
        objective = services.create_objective(None, tree.sub1, year=YEAR, title=title, indicator=indicator,
                                              value_kind=kind, target_value=value, measure_unit=mu,
                                              deadline=dt.date(YEAR, 12, 31), responsible=responsible,
                                              check_method=check)
        services.create_target(None, objective=objective, unit=tree.b01, task=task, person=person,
                               indicator=indicator, value_kind=kind, target_value=share, measure_unit=mu,
                               deadline=dt.date(YEAR, 12, 15), quality="按体系文件要求执行，记录完整、可追溯")
    letter = letters.draw_up_letter(None, tree.b01, YEAR)
    when = dt.datetime(YEAR, 1, 18, 9, 30, tzinfo=dt.UTC)
    letters.sign_letter(None, letter, "branch", name="李支书", at=when)
    return letters.sign_letter(None, letter, "committee", name="任书记", at=when + dt.timedelta(hours=2))


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_letter_and_its_signatures_share_one_page(letter, lang):
    from weasyprint import HTML

    with translation.override(lang):
        document = HTML(string=printing.letter_html(letter)).render()
    assert len(document.pages) == 1, [len(p) for p in page_lines(document)]
    last_row = letter.rows[-1]["task"][:8]
    assert page_of(document, "任书记") == page_of(document, "李支书") == page_of(document, last_row) == 1
    assert lonely_characters(document) == []


@pytest.mark.parametrize("name", ["", "—", " - "])
@pytest.mark.parametrize("lang,expected", [("zh-hans", "签署须有签署人姓名"),
                                           ("en", "A signature needs the signer's name")])
def test_no_signature_without_a_signer(tree, year, lang, expected, name):
    letter = letters.draw_up_letter(None, tree.b01, YEAR)
    with translation.override(lang), pytest.raises(ValidationError) as e:
        letters.sign_letter(None, letter, "branch", name=name)
    assert expected in e.value.messages[0]
    letter = ResponsibilityLetter.objects.get(pk=letter.pk)
    assert (letter.branch_signer_name, letter.branch_signed_at, letter.state) == ("", None, LetterState.DRAFT)

