"""One precision for figures, names beside codes, and the data migration correcting stored texts (#20.3)."""

from __future__ import annotations

import importlib
from decimal import Decimal

from django.apps import apps
from django.template import Context, Template

from pbqms.accounts.models import Role
from pbqms.audit.views import record_type_choices
from pbqms.core import codes
from pbqms.core.figures import figure, tidy
from pbqms.rectification.models import Finding, PreventiveAction, PreventiveTrigger
from pbqms.rectification.tests.factories import finding

migration = importlib.import_module("pbqms.core.migrations.0002_home_tidy_figures_and_codes")


def test_figure_has_one_fixed_precision():
    assert figure(Decimal(91.4)) == "91.4"  # the float's expansion 91.400000000000005684… goes
    assert figure(90.95) == "91.0" and figure(Decimal("94.7"), 2) == "94.70" and figure(90, trim=True) == "90"
    assert figure(None) == "" and figure("n/a") == "n/a"
    assert tidy("根据系统记录计算：90.900000000000005684341886080801486968994140625%。") == "根据系统记录计算：90.9%。"
    assert Template("{% load pbqms_ui %}{{ v|figure }}").render(Context({"v": Decimal(94.7)})) == "94.7"


def test_rule_codes_read_as_names_and_item_codes_with_titles(tree, users):
    names = codes.names(["GROUP_M", "NOPE"])
    assert names["GROUP_M"] == "党小组会每月至少召开1次" and "NOPE" not in names
    assert codes.label("NOPE") == "NOPE"


def test_preventive_titles_name_the_rule(tree, users):
    f = finding(users[Role.DEPARTMENT_STAFF], tree.b01, item="GROUP_M")
    from pbqms.rectification import preventive

    for period in ("2026-01", "2026-02", "2026-03"):
        Finding.objects.filter(pk=f.pk).update(period=period)
        f = finding(users[Role.DEPARTMENT_STAFF], tree.b01, item="GROUP_M", period=period)
        preventive.detect(f)
    titles = list(PreventiveAction.objects.values_list("title", flat=True))
    assert titles and all("GROUP_M" not in t and "党小组会" in t for t in titles)


def test_the_data_migration_corrects_stored_texts(tree, users):
    long = "DJ02 党员参加组织生活情况：扣0.29分。根据系统记录计算：91.400000000000005684341886080801486968994140625%。"
    f = finding(users[Role.DEPARTMENT_STAFF], tree.b01, item="DJ02", description=long)
    action = PreventiveAction.objects.create(key="k1", trigger=PreventiveTrigger.SAME_UNIT, unit=tree.b01,
                                             org_path=tree.b01.path, item_code="GROUP_M",
                                             title="第一党支部：GROUP_M 再次发现", due_on="2026-12-31")
    migration.tidy_figures(apps, None)
    migration.name_codes(apps, None)
    f.refresh_from_db()
    action.refresh_from_db()
    assert f.description.endswith("根据系统记录计算：91.4%。")
    assert action.title == "第一党支部：党小组会每月至少召开1次 再次发现"


def test_every_record_type_of_the_audit_filter_is_translated(tree, english):
    from django.utils import translation

    with translation.override("zh-hans"):
        labels = dict(record_type_choices())
    assert labels["assessment.itemresult"] == "单项得分"
    assert all(not label.isascii() for label in labels.values()), [v for v in labels.values() if v.isascii()]


def test_a_negative_figure_that_rounds_to_zero_is_zero():
    assert figure(-0.04) == "0.0"
    assert figure(-0.004, 2) == "0.00"
    assert figure(Decimal("-0.05")) == "-0.1"
