"""Organisation tree — 组织树.

Units form a tree stored as a materialised path: each unit's `path` is its ancestors' primary
keys and its own, each as 10 digits, joined by '/' and ending in '/'. Subtree = one
`path LIKE 'prefix%'` query, ancestors = one `pk IN (...)` query parsed from the path, so both
cost one SQL query however deep or wide the tree is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

SEGMENT = 10  # digits per path segment: room for 10^10 units


def path_segment(pk: int) -> str:
    return f"{pk:0{SEGMENT}d}/"


class UnitKind(models.TextChoices):
    """Unit kinds — 组织类型."""

    COMMITTEE = "committee", _("Party committee")  # 党委
    GENERAL_BRANCH = "general_branch", _("General branch")  # 党总支
    BRANCH = "branch", _("Branch")  # 党支部
    GROUP = "group", _("Party group")  # 党小组


class BranchVariant(models.TextChoices):
    """Branch variants — 支部类别: ordinary, joint (联合党支部) or temporary (临时党支部)."""

    REGULAR = "regular", _("Regular branch")
    JOINT = "joint", _("Joint branch")
    TEMPORARY = "temporary", _("Temporary branch")


# Which kinds may hold which (《中国共产党支部工作条例（试行）》 art. 5-7 and the seeds' trees):
# a 党委 may hold 党委s (group → subsidiary → mine), 总支s and branches; a 总支 holds branches;
# a branch holds party groups; a group holds nothing.
ALLOWED_PARENTS: dict[str, set[str | None]] = {
    UnitKind.COMMITTEE: {None, UnitKind.COMMITTEE},
    UnitKind.GENERAL_BRANCH: {UnitKind.COMMITTEE},
    UnitKind.BRANCH: {UnitKind.COMMITTEE, UnitKind.GENERAL_BRANCH},
    UnitKind.GROUP: {UnitKind.BRANCH},
}


class Unit(models.Model):
    """A party organisation unit — 党组织 (党委 / 党总支 / 党支部 / 党小组)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    variant = models.CharField(
        _("branch variant"), max_length=20, choices=BranchVariant.choices, default=BranchVariant.REGULAR
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("tree path"), max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    order = models.PositiveIntegerField(_("order"), default=0)
    founded_on = models.DateField(_("founding date"), null=True, blank=True)
    department = models.CharField(_("enterprise department"), max_length=120, blank=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    dissolution_reason = models.CharField(_("reason for dissolution"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("unit (党组织)")
        verbose_name_plural = _("units (党组织)")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="unit_path_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["kind", "path"], name="unit_kind_path"),
            # "the branches under this unit" (a LIKE prefix per kind): the index above serves the
            # ordering, this one the prefix range outside the C collation
            models.Index(fields=["kind", "path"], name="unit_kind_path_prefix", opclasses=["", "varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("orgs:unit", args=[self.code])

    @property
    def is_active(self) -> bool:
        return self.dissolved_on is None

    @property
    def is_branch(self) -> bool:
        return self.kind == UnitKind.BRANCH

    def ancestor_ids(self) -> list[int]:
        """Primary keys of the ancestors, root first, read from the path without a query."""
        parts = [int(p) for p in self.path.strip("/").split("/") if p]
        return parts[:-1]


class UnitMove(models.Model):
    """A move of a unit to a new parent — 组织隶属关系调整, kept as history."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="moves", verbose_name=_("unit"))
    from_parent = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("from")
    )
    to_parent = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("to"))
    moved_on = models.DateField(_("moved on"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("moved by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("unit move (隶属关系调整)")
        verbose_name_plural = _("unit moves (隶属关系调整)")
        ordering = ["-moved_on", "-id"]

    def __str__(self) -> str:
        return f"{self.unit} → {self.to_parent} ({self.moved_on})"


class UnitTally(models.Model):
    """Running totals of a unit's subtree — 组织统计: active people by party status and active units by kind.

    `key` is "person:<status>" or "unit:<kind>". A unit's row counts its whole subtree (itself
    included); a party group's person rows count the group's own members. Kept current by
    orgs.tally, called from the services that change people and units, so home pages and tree
    rows read a handful of rows instead of counting millions (see docs/decisions/0003).
    """

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="tallies", verbose_name=_("unit"))
    key = models.CharField(_("what is counted"), max_length=40)
    n = models.IntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("unit tally (组织统计)")
        verbose_name_plural = _("unit tallies (组织统计)")
        constraints = [models.UniqueConstraint(fields=["unit", "key"], name="one_tally_per_key")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.key}={self.n}"
