"""The results engine reads only the rows that depart from full points (decision 0006): for any
scores entered through the services, its totals equal a plain sum over every score row."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbqms.assessment import results, services
from pbqms.assessment.models import PeriodStatus, Result, Score, SheetKind
from pbqms.assessment.services import ScoreInput
from pbqms.assessment.tests.conftest import make_setup

FACTS = {"reason": "r", "standard_applied": "s", "evidence_ref": "e"}
unit_scores = st.fixed_dictionaries({
    "DJ01": st.integers(0, 25), "DJ02": st.sampled_from(["好", "较好", "一般", "差"]),
    "DJ03": st.integers(0, 100), "XC01": st.booleans(), "JK01": st.integers(0, 3), "JK02": st.integers(0, 3),
})


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=unit_scores, b=unit_scores)
def test_engine_equals_a_plain_sum(tree, admin_user, a, b):
    from django.db import transaction

    with transaction.atomic():
        setup = make_setup(tree, admin_user)
        period = setup.period("2026Q1")
        services.move_period(admin_user, period, PeriodStatus.SCORING)
        period.refresh_from_db()
        for unit, values in ((tree.b01, a), (tree.b02, b)):
            sheet = services.open_sheet(admin_user, period, unit, SheetKind.ASSESSOR)
            entries = [
                ScoreInput(item=setup.items["DJ01"], occurrences=values["DJ01"], **FACTS),
                ScoreInput(item=setup.items["DJ02"], level=values["DJ02"], **FACTS),
                ScoreInput(item=setup.items["DJ03"], measured=values["DJ03"], **FACTS),
                ScoreInput(item=setup.items["XC01"], yes=values["XC01"], **FACTS),
                ScoreInput(item=setup.items["JK01"], occurrences=values["JK01"], **FACTS),
                ScoreInput(item=setup.items["JK02"], occurrences=values["JK02"], **FACTS),
            ]
            services.save_scores(admin_user, sheet, entries)
            services.submit_sheet(admin_user, sheet)
        results.compute(period)
        for unit in (tree.b01, tree.b02):
            rows = list(Score.objects.filter(sheet__period=period, sheet__unit=unit).select_related("item"))
            base = sum((s.points for s in rows if s.item.kind in ("work", "interactive")), Decimal(0))
            bonus = min(Decimal(3), sum((s.points for s in rows if s.item.kind == "bonus"), Decimal(0)))
            penalty = max(Decimal(-5), sum((s.points for s in rows if s.item.kind == "penalty"), Decimal(0)))
            r = Result.objects.get(period=period, unit=unit)
            # the quarter scores 90 points: its total is put on the full mark (decision 0012)
            scaled = (base * 100 / 90).quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert (r.base, r.bonus, r.penalty) == (scaled, bonus, penalty)
            assert r.total == max(Decimal(0), (base * 100 / 90 + bonus + penalty)).quantize(Decimal("0.01"),
                                                                                            ROUND_HALF_UP)
            assert sum((Decimal(v) for v in r.categories.values()), Decimal(0)) == base + r.bonus + r.penalty \
                or bonus != sum((s.points for s in rows if s.item.kind == "bonus"), Decimal(0)) \
                or penalty != sum((s.points for s in rows if s.item.kind == "penalty"), Decimal(0))
        transaction.set_rollback(True)


def test_tallies_are_kept_at_submission_cleared_on_withdrawal_and_rebuilt_when_missing(tree, admin_user):
    """Decision 0007: a sheet's subtotals are written when it is submitted, cleared when the
    submission is withdrawn, and a counting sheet without them (a bulk load) is tallied from its
    scores by the engine — the results are the same either way."""
    from pbqms.assessment import tallies
    from pbqms.assessment.models import Sheet

    setup = make_setup(tree, admin_user)
    period = setup.period("2026Q1")
    services.move_period(admin_user, period, PeriodStatus.SCORING)
    period.refresh_from_db()
    sheet = services.open_sheet(admin_user, period, tree.b01, SheetKind.ASSESSOR)
    services.save_scores(admin_user, sheet, [
        ScoreInput(item=setup.items["DJ01"], occurrences=2, **FACTS),
        ScoreInput(item=setup.items["DJ02"], level="一般", **FACTS),
        ScoreInput(item=setup.items["DJ03"], measured=100, **FACTS),
        ScoreInput(item=setup.items["XC01"], yes=False, **FACTS),
        ScoreInput(item=setup.items["JK01"], occurrences=1, **FACTS),
        ScoreInput(item=setup.items["JK02"], occurrences=1, **FACTS),
    ])
    assert Sheet.objects.get(pk=sheet.pk).tally is None
    services.submit_sheet(admin_user, sheet)
    kept = tallies.read(Sheet.objects.get(pk=sheet.pk).tally)
    lost = {s.item.code: s.item.max_points - s.points for s in Score.objects.filter(sheet=sheet).select_related("item")
            if s.item.kind in ("work", "interactive")}
    assert Decimal(kept["l"]) / 100 == sum(lost.values()) > 0
    # the items that lost points, the penalty item among them; the bonus and penalty apart
    assert set(kept["i"]) == {str(setup.items[c].pk) for c, v in lost.items() if v} | {str(setup.items["JK02"].pk)}
    assert (kept["b"], kept["p"]) == (200, -300)
    results.compute(period)
    first = Result.objects.values("total", "base", "bonus", "penalty", "subtotals").get(period=period, unit=tree.b01)

    Sheet.objects.filter(pk=sheet.pk).update(tally=None)  # as a bulk load leaves it
    results.compute(period)
    assert Sheet.objects.get(pk=sheet.pk).tally is not None
    again = Result.objects.values("total", "base", "bonus", "penalty", "subtotals").get(period=period, unit=tree.b01)
    assert again == first

    services.withdraw_submission(admin_user, sheet, "重新评分")
    assert Sheet.objects.get(pk=sheet.pk).tally is None
    results.compute(period)
    assert not Result.objects.filter(period=period, unit=tree.b01).exists()
