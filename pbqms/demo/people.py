"""A deterministic generator of plausible people for the demo: names, identity and dates.

Everything comes from one seeded `random.Random`, so the same seed gives the same people.
ID numbers follow GB 11643 (area code, birth date, order code with the gender's parity, check
digit) and never repeat within one generator.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from dataclasses import dataclass, field
from operator import mul

from pbqms.members.models import Education, Gender, PartyStatus

from . import names

_MALE, _FEMALE = str(Gender.MALE), str(Gender.FEMALE)  # plain str: faster, and the same value
# GB 11643 check character (members.idnumber.check_digit), inlined for million-row builds.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"

# Dates are drawn relative to a fixed day, so two builds agree whatever day they run on.
AS_OF = min(dt.date(2026, 7, 1), dt.date.today())


@dataclass
class Step:
    status: str
    date: dt.date


@dataclass
class Person:
    name: str
    gender: str
    ethnicity: str
    birth_date: dt.date
    education: str
    id_number: str
    phone: str
    post: str
    status: str
    steps: list[Step] = field(default_factory=list)

    @property
    def joined_on(self) -> dt.date | None:
        for step in self.steps:
            if step.status == PartyStatus.PROBATIONARY:
                return step.date
        return None


def _cum(weights: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    values = [v for v, _ in weights]
    cum = list(itertools.accumulate(w for _, w in weights))
    return values, cum


class Generator:
    """Draws people one at a time. `unique_names` avoids two people of the same name (demo only)."""

    def __init__(self, seed: int, *, unique_names: bool = False, order_slice: tuple[int, int] = (0, 500),
                 name_pool: dict[str, list[str]] | None = None) -> None:
        self.rng = random.Random(seed)
        self.unique_names = unique_names
        # Generators that must never hand out the same ID number use disjoint order-code slices.
        self.order_slice = order_slice
        # Large builds draw names from a fixed pool, so pinyin is computed once per name.
        self.name_pool = name_pool
        self._names: set[str] = set()
        self._ids: set[int] = set()
        self._surnames = _cum(names.SURNAMES)
        self._ethnicities = _cum(names.ETHNICITIES)
        self._areas = _cum(names.AREA_CODES)
        self._posts = {kind: _cum(posts) for kind, posts in names.POSTS.items()}

    def _pick(self, table: tuple[list[str], list[float]]) -> str:
        values, cum = table
        return values[bisect.bisect(cum, self.rng.random() * cum[-1])]

    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    # ---- identity ----------------------------------------------------------------------

    def name(self, gender: str) -> str:
        if self.name_pool is not None:
            return self.rng.choice(self.name_pool[gender])
        chars = names.MALE_CHARS if gender == _MALE else names.FEMALE_CHARS
        for _ in range(50):
            given = self.rng.choice(chars)
            if self.rng.random() < 0.72:  # most given names have two characters
                second = self.rng.choice(chars)
                if second != given:
                    given += second
            full = self._pick(self._surnames) + given
            if not self.unique_names or full not in self._names:
                self._names.add(full)
                return full
        return full

    def id_number(self, born: dt.date, gender: str) -> str:
        """A valid, never-repeated 18-character number for this birth date and gender."""
        while True:
            area = self._pick(self._areas)
            order = self.rng.randrange(*self.order_slice) * 2 + (1 if gender == _MALE else 0)
            ymd = born.year * 10000 + born.month * 100 + born.day
            key = (int(area) * 100_000_000 + ymd) * 1000 + order
            if key in self._ids:
                continue
            self._ids.add(key)
            body = f"{area}{ymd}{order:03d}"
            return body + _CHECK_CHARS[sum(map(mul, map(int, body), _WEIGHTS)) % 11]

    def phone(self) -> str:
        return self.rng.choice(names.MOBILE_PREFIXES) + f"{self.rng.randrange(100_000_000):08d}"

    def gender(self, female_share: float) -> str:
        return _FEMALE if self.rng.random() < female_share else _MALE

    def ethnicity(self) -> str:
        return self._pick(self._ethnicities)

    def post(self, kind: str) -> str:
        return self._pick(self._posts[kind])

    def education(self, born: dt.date, kind: str) -> str:
        r = self.rng.random()
        if kind == "office":
            table = [(Education.MASTER, 0.12), (Education.BACHELOR, 0.62), (Education.COLLEGE, 0.9),
                     (Education.SENIOR, 1.0)]
        elif born.year < 1965:
            table = [(Education.PRIMARY, 0.12), (Education.JUNIOR, 0.55), (Education.SENIOR, 0.9),
                     (Education.COLLEGE, 1.0)]
        else:
            table = [(Education.JUNIOR, 0.1), (Education.SENIOR, 0.45), (Education.COLLEGE, 0.8),
                     (Education.BACHELOR, 0.98), (Education.MASTER, 1.0)]
        for value, upto in table:
            if r < upto:
                return value
        return table[-1][0]

    # ---- the development ladder (《发展党员工作细则》 time limits) -------------------------

    def steps(self, status: str, born: dt.date) -> list[Step]:
        """Dated steps up to `status`: applicant ≥18, activist ≥1 year before becoming a
        development target, one year's probation before full membership."""
        if status == PartyStatus.MASSES:
            return []
        adult = born.replace(year=born.year + 18) if not (born.month == 2 and born.day == 29) \
            else dt.date(born.year + 18, 3, 1)
        if status == PartyStatus.FULL:
            # Joined (probationary) between 20 and 40, at least 13 months before AS_OF.
            latest = min(AS_OF - dt.timedelta(days=400), dt.date(born.year + 40, born.month, 1))
            earliest = max(adult + dt.timedelta(days=1200), dt.date(born.year + 20, 1, 1))
            probation = self.date_between(earliest, max(earliest, latest))
        elif status == PartyStatus.PROBATIONARY:
            probation = self.date_between(AS_OF - dt.timedelta(days=330), AS_OF - dt.timedelta(days=20))
        else:
            probation = None
        if probation is not None:
            candidate = probation - dt.timedelta(days=self.rng.randrange(90, 240))
            activist = candidate - dt.timedelta(days=self.rng.randrange(380, 700))
            applicant = activist - dt.timedelta(days=self.rng.randrange(30, 200))
            steps = [Step(PartyStatus.APPLICANT, applicant), Step(PartyStatus.ACTIVIST, activist),
                     Step(PartyStatus.CANDIDATE, candidate), Step(PartyStatus.PROBATIONARY, probation)]
            if status == PartyStatus.FULL:
                steps.append(Step(PartyStatus.FULL, probation.replace(year=probation.year + 1)
                                  if not (probation.month == 2 and probation.day == 29)
                                  else dt.date(probation.year + 1, 3, 1)))
            return steps
        if status == PartyStatus.CANDIDATE:
            candidate = self.date_between(AS_OF - dt.timedelta(days=200), AS_OF - dt.timedelta(days=10))
            activist = candidate - dt.timedelta(days=self.rng.randrange(370, 600))
            applicant = activist - dt.timedelta(days=self.rng.randrange(30, 200))
            return [Step(PartyStatus.APPLICANT, applicant), Step(PartyStatus.ACTIVIST, activist),
                    Step(PartyStatus.CANDIDATE, candidate)]
        if status == PartyStatus.ACTIVIST:
            activist = self.date_between(AS_OF - dt.timedelta(days=330), AS_OF - dt.timedelta(days=10))
            applicant = activist - dt.timedelta(days=self.rng.randrange(30, 200))
            return [Step(PartyStatus.APPLICANT, applicant), Step(PartyStatus.ACTIVIST, activist)]
        applicant = self.date_between(AS_OF - dt.timedelta(days=180), AS_OF - dt.timedelta(days=5))
        return [Step(PartyStatus.APPLICANT, applicant)]

    def birth_date(self, status: str, kind: str) -> dt.date:
        if kind == "retired":
            return self.date_between(dt.date(AS_OF.year - 88, 1, 1), dt.date(AS_OF.year - 61, 12, 31))
        if status in (PartyStatus.APPLICANT, PartyStatus.ACTIVIST, PartyStatus.CANDIDATE,
                      PartyStatus.PROBATIONARY):
            return self.date_between(dt.date(AS_OF.year - 38, 1, 1), dt.date(AS_OF.year - 22, 12, 31))
        return self.date_between(dt.date(AS_OF.year - 59, 1, 1), dt.date(AS_OF.year - 24, 12, 31))

    def person(self, status: str, kind: str, *, female_share: float = 0.08,
               post: str | None = None) -> Person:
        gender = self.gender(female_share)
        born = self.birth_date(status, kind)
        return Person(
            name=self.name(gender), gender=gender, ethnicity=self.ethnicity(), birth_date=born,
            education=self.education(born, kind), id_number=self.id_number(born, gender),
            phone=self.phone(), post=post or self.post(kind), status=status, steps=self.steps(status, born),
        )
