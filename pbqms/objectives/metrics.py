"""Figures of the objectives capability offered to the assessment engine (pbqms.core.metrics).

The year-end evaluation of a member's targets (common and individual parts, weighted as
member_services says) feeds the member-points scheme (党员量化积分) without anyone typing it in
again (一次录入、多处复用)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Avg

from pbqms.objectives.member_services import COMMON_WEIGHT, INDIVIDUAL_WEIGHT
from pbqms.objectives.models import MemberTarget, ReviewState, TargetPart


def member_target_score(member_ids: Iterable[int], start: dt.date, end: dt.date) -> dict[int, Decimal | None]:
    """member id → the evaluation score (0–100) of their approved targets of `end`'s year, or None
    where nothing has been evaluated yet. One aggregate query."""
    ids = list(member_ids)
    parts: dict[int, dict[str, Decimal]] = {}
    rows = (MemberTarget.objects.filter(member_id__in=ids, year=end.year, state=ReviewState.APPROVED,
                                        score__isnull=False)
            .values("member_id", "part").annotate(avg=Avg("score")))
    for r in rows:
        parts.setdefault(r["member_id"], {})[r["part"]] = Decimal(str(r["avg"]))
    out: dict[int, Decimal | None] = {}
    for member_id in ids:
        p = parts.get(member_id)
        if not p:
            out[member_id] = None
            continue
        common, individual = p.get(TargetPart.COMMON), p.get(TargetPart.INDIVIDUAL)
        if common is not None and individual is not None:
            score = common * COMMON_WEIGHT + individual * INDIVIDUAL_WEIGHT
        else:
            score = common if common is not None else (individual or Decimal(0))
        out[member_id] = min(Decimal(100), max(Decimal(0), score)).quantize(Decimal("0.1"))
    return out
