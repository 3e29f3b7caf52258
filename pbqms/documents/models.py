"""Controlled system documents — 体系文件: the five tiers, numbered, versioned, approved,
published, distributed, acknowledged, periodically reviewed, superseded or abolished.

A Document is the numbered, owned thing (QYZ-ZD-003 《党员大会制度》); its DocumentVersions hold
the text. A version is editable only as a draft; once published it is locked (save() refuses a
change to its content). `Document.current` points at the version in force, so lists and the
search read one row per document.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pbqms.orgs.models import Unit


class Tier(models.TextChoices):
    """The five parts of the system's documents (seed 002) — 体系文件层级."""

    MANUAL = "manual", _("Management manual")  # 管理手册: programmatic
    PROCEDURE = "procedure", _("Procedure")  # 程序文件: controlling
    WORK_INSTRUCTION = "work_instruction", _("Work instruction")  # 作业指导书: operational
    REGULATION = "regulation", _("Regulation")  # 管理制度: supporting
    RECORD_FORM = "record_form", _("Quality record form")  # 质量记录: evidential


# The letters a default number carries per tier (管理手册 SC, 程序文件 CX, 作业指导书 ZY, 管理制度 ZD,
# 质量记录 JL), used when the owning unit has no numbering pattern of its own.
TIER_CODES = {Tier.MANUAL: "SC", Tier.PROCEDURE: "CX", Tier.WORK_INSTRUCTION: "ZY", Tier.REGULATION: "ZD",
              Tier.RECORD_FORM: "JL"}
TIER_ORDER = [Tier.MANUAL, Tier.PROCEDURE, Tier.WORK_INSTRUCTION, Tier.REGULATION, Tier.RECORD_FORM]


class VersionStatus(models.TextChoices):
    """A version's place in the approval flow — 版本状态."""

    DRAFT = "draft", _("Draft")  # 草稿
    IN_REVIEW = "in_review", _("In review")  # 审核中
    APPROVED = "approved", _("Approved")  # 已批准
    PUBLISHED = "published", _("Published")  # 已发布
    SUPERSEDED = "superseded", _("Superseded")  # 已替代
    ABOLISHED = "abolished", _("Abolished")  # 已废止


LOCKED_STATUSES = {VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED, VersionStatus.ABOLISHED}
# The text of a version: what is locked once it is published, and what the diff compares.
SECTION_FIELDS = ("purpose", "scope_text", "duties", "procedure", "body")
FIVE_W_FIELDS = ("what", "why", "who", "when", "how", "standard")
CONTENT_FIELDS = ("title",) + SECTION_FIELDS + FIVE_W_FIELDS + ("change_summary",)


class NumberingPattern(models.Model):
    """How a unit numbers its documents of one tier — 编号规则, e.g. ``QYZ-CX-{seq:03d}``.

    Placeholders: ``{seq}`` (required, once; ``{seq:03d}`` pads), ``{year}``, ``{unit}``.
    """

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices)
    pattern = models.CharField(_("pattern"), max_length=60)
    next_seq = models.PositiveIntegerField(_("next sequence number"), default=1)

    class Meta:
        verbose_name = _("numbering pattern (编号规则)")
        verbose_name_plural = _("numbering patterns (编号规则)")
        constraints = [models.UniqueConstraint(fields=["unit", "tier"], name="doc_one_pattern_per_tier")]

    def __str__(self) -> str:
        return self.pattern


class Document(models.Model):
    """Document — 体系文件: one numbered document of a tier, owned by a unit, applying to units."""

    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices)
    number = models.CharField(_("number"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=200)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="documents",
                             verbose_name=_("owning unit"))
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    applies_to: models.ManyToManyField[Unit, Any] = models.ManyToManyField(
        Unit, through="Applicability", related_name="applicable_documents",
                                        verbose_name=_("applies to"))
    include_subtree = models.BooleanField(
        _("applies to the units' subtrees too"), default=True,
        help_text=_("A mine regulation applies to every branch below the mine."))
    book_part = models.CharField(_("part of the book"), max_length=60, blank=True,
                                 help_text=_("The block of the work-instruction book, e.g. 党的自身建设."))
    order = models.PositiveIntegerField(_("order in the book"), default=0)
    review_interval_months = models.PositiveSmallIntegerField(_("review interval (months)"), default=12)
    # Seam to the assessment capability (not built yet): codes of the assessment items this
    # document serves, e.g. "2.3 4.1". selectors.assessment_items() resolves them once it exists.
    assessment_items = models.CharField(_("assessment items"), max_length=255, blank=True)
    links: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "self", through="DocumentLink", symmetrical=False, related_name="linked_from",
                                   verbose_name=_("linked documents"))
    current = models.ForeignKey("DocumentVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("version in force"))
    abolished_on = models.DateField(_("abolished on"), null=True, blank=True)
    abolish_reason = models.CharField(_("reason for abolition"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("document (体系文件)")
        verbose_name_plural = _("documents (体系文件)")
        ordering = ["org_path", "order", "number"]
        indexes = [
            models.Index(fields=["org_path", "tier"], name="doc_path_tier", opclasses=["varchar_pattern_ops",
                                                                                      "varchar_pattern_ops"]),
            models.Index(fields=["tier", "number"], name="doc_tier_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("documents:detail", args=[self.pk])

    @property
    def is_abolished(self) -> bool:
        return self.abolished_on is not None


class Applicability(models.Model):
    """One unit a document applies to — 适用范围 (with the unit's path, for prefix tests)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="reach")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    path = models.CharField(_("tree path"), max_length=255)
    subtree = models.BooleanField(_("applies to the units' subtrees too"), default=True)  # Document.include_subtree

    class Meta:
        verbose_name = _("applicability (适用范围)")
        verbose_name_plural = _("applicability (适用范围)")
        constraints = [models.UniqueConstraint(fields=["document", "unit"], name="doc_applies_once")]
        indexes = [models.Index(fields=["path"], name="doc_reach_path", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.document_id} → {self.unit_id}"


class LinkKind(models.TextChoices):
    WORK_INSTRUCTION = "work_instruction", _("Work instruction")
    RECORD_FORM = "record_form", _("Record form")
    REGULATION = "regulation", _("Regulation")
    RELATED = "related", _("Related document")


class DocumentLink(models.Model):
    """A link from one document to another — 文件关联 (a procedure to its work instructions and forms)."""

    source = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="outgoing")
    target = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="incoming")
    kind = models.CharField(_("kind"), max_length=20, choices=LinkKind.choices, default=LinkKind.RELATED)

    class Meta:
        verbose_name = _("document link (文件关联)")
        verbose_name_plural = _("document links (文件关联)")
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="doc_link_once")]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"


class DocumentVersion(models.Model):
    """Version — 文件版本: the text of one edition, with its sections, 5W1H and change summary.

    Locked once published: save() refuses a change to any content field.
    """

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions",
                                 verbose_name=_("document"))
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=VersionStatus.choices,
                              default=VersionStatus.DRAFT)
    title = models.CharField(_("title"), max_length=200)
    change_summary = models.TextField(_("what changed and why"), blank=True)
    purpose = models.TextField(_("purpose"), blank=True)  # 目的
    scope_text = models.TextField(_("scope"), blank=True)  # 范围
    duties = models.TextField(_("duties"), blank=True)  # 职责
    procedure = models.TextField(_("procedure"), blank=True)  # 工作程序
    body = models.TextField(_("body"), blank=True)  # 正文 (manuals, forms)
    what = models.TextField(_("what is done"), blank=True)  # 做什么
    why = models.TextField(_("why"), blank=True)  # 为什么做
    who = models.TextField(_("who does it"), blank=True)  # 谁来做
    when = models.TextField(_("when"), blank=True)  # 何时做
    how = models.TextField(_("how"), blank=True)  # 怎么做
    standard = models.TextField(_("to what standard"), blank=True)  # 做到什么程度
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("author"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("published by"))
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    ended_on = models.DateField(_("superseded or abolished on"), null=True, blank=True)
    end_reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("document version (文件版本)")
        verbose_name_plural = _("document versions (文件版本)")
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="doc_version_number")]
        indexes = [models.Index(fields=["status", "org_path"], name="doc_version_status_path")]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        loaded = getattr(self, "_loaded", None)
        if loaded is not None and loaded.get("status") in LOCKED_STATUSES:
            changed = [f for f in CONTENT_FIELDS if f in loaded and loaded[f] != getattr(self, f)]
            if changed:
                raise PermissionError(f"published versions are immutable (changed: {', '.join(changed)})")
        super().save(*args, **kwargs)
        self._loaded = {f: self.__dict__.get(f) for f in ("status",) + CONTENT_FIELDS}

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> DocumentVersion:
        obj = super().from_db(db, field_names, values)
        obj._loaded = {f: obj.__dict__.get(f) for f in ("status",) + CONTENT_FIELDS}
        return obj

    @property
    def is_locked(self) -> bool:
        return self.status in LOCKED_STATUSES

    @property
    def is_in_force(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    def hands(self, steps: Any = None) -> dict[str, Any]:
        """The three hands of the version (编制、审核、批准): its author, and the reviewer and approver
        whose passing steps stand (the last of each kind), with their dates. Reads `steps` through
        `.all()`, so a prefetch of ``steps__actor`` serves a whole list."""
        passed = [s for s in (self.steps.all() if steps is None else steps) if s.decision == StepDecision.PASS]
        review = next((s for s in reversed(passed) if s.kind == StepKind.REVIEW), None)
        approve = next((s for s in reversed(passed) if s.kind == StepKind.APPROVE), None)
        return {"author": self.author, "reviewer": review.actor if review else None,
                "reviewed_on": timezone.localdate(review.at) if review else None,
                "approver": approve.actor if approve else None,
                "approved_on": timezone.localdate(approve.at) if approve else None}

    def sections(self) -> list[tuple[str, str, str]]:
        """(field, label, text) of each non-empty section, in the document's order."""
        names = dict(section_labels())
        return [(f, str(names[f]), getattr(self, f)) for f in SECTION_FIELDS + FIVE_W_FIELDS if getattr(self, f)]


def section_labels() -> list[tuple[str, Any]]:
    return [("purpose", _("Purpose")), ("scope_text", _("Scope")), ("duties", _("Duties")),
            ("procedure", _("Working procedure")), ("body", _("Text")), ("what", _("What is done")),
            ("why", _("Why")), ("who", _("Who does it")), ("when", _("When")), ("how", _("How")),
            ("standard", _("To what standard"))]


class StepKind(models.TextChoices):
    REVIEW = "review", _("Review")  # 审核
    APPROVE = "approve", _("Approval")  # 批准


class StepDecision(models.TextChoices):
    PASS = "pass", _("Passed")
    RETURN = "return", _("Returned for rework")


class ApprovalStep(models.Model):
    """A review or approval of a version — 审核 / 批准: who, in which role, what they decided."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="steps")
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    kind = models.CharField(_("step"), max_length=10, choices=StepKind.choices)
    decision = models.CharField(_("decision"), max_length=10, choices=StepDecision.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("by"))
    role = models.CharField(_("role"), max_length=30, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)  # services pass clock.now()

    class Meta:
        verbose_name = _("approval step (审批记录)")
        verbose_name_plural = _("approval steps (审批记录)")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.decision} v{self.version_id}"


class Acknowledgement(models.Model):
    """Distribution and acknowledgement — 发放与已阅: one recipient of a published version."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="acknowledgements")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+")
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="document_acks",
                             verbose_name=_("recipient"))
    unit = models.ForeignKey(Unit, null=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("recipient's unit"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    acknowledged_at = models.DateTimeField(_("read at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("acknowledgement (已阅)")
        verbose_name_plural = _("acknowledgements (已阅)")
        ordering = ["acknowledged_at", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="doc_ack_once")]
        indexes = [models.Index(fields=["user", "acknowledged_at"], name="doc_ack_user")]

    def __str__(self) -> str:
        return f"{self.user_id} ← v{self.version_id}"


class ReviewOutcome(models.TextChoices):
    STILL_VALID = "still_valid", _("Still valid")  # 继续有效
    REVISE = "revise", _("Revise")  # 修订
    ABOLISH = "abolish", _("Abolish")  # 废止


class PeriodicReview(models.Model):
    """Periodic review — 定期评审: due from the document's interval, ended with an outcome."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="reviews")
    org_path = models.CharField(_("tree path"), max_length=255, editable=False)
    due_on = models.DateField(_("due on"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=ReviewOutcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("reviewed by"))
    reviewed_on = models.DateField(_("reviewed on"), null=True, blank=True)
    reminded_on = models.DateField(_("reminded on"), null=True, blank=True)

    class Meta:
        verbose_name = _("periodic review (定期评审)")
        verbose_name_plural = _("periodic reviews (定期评审)")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["reviewed_on", "due_on"], name="doc_review_due")]

    def __str__(self) -> str:
        return f"{self.document_id} due {self.due_on}"

    @property
    def is_open(self) -> bool:
        return self.reviewed_on is None


class SearchTerm(models.Model):
    """Search vocabulary — 检索词表: every term indexed, with the number of versions holding it
    (for the idf of the ranking, and to expand a partial word to the words containing it)."""

    term = models.CharField(max_length=32, unique=True)
    df = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("search term (检索词)")
        verbose_name_plural = _("search terms (检索词)")

    def __str__(self) -> str:
        return self.term


class VersionTerm(models.Model):
    """Search index — 全文索引: one term of a version in force, with its weight (title counts more).

    Only versions in force are indexed; publishing adds rows, superseding or abolishing removes them.
    `document_id` is copied so the scope filter needs no join.
    """

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="+", db_constraint=True)
    term = models.CharField(max_length=32)
    weight = models.PositiveSmallIntegerField(default=1)

    class Meta:
        verbose_name = _("indexed term (索引词)")
        verbose_name_plural = _("indexed terms (索引词)")
        indexes = [
            models.Index(fields=["term", "-weight", "version"], name="doc_term_weight"),
            models.Index(fields=["version", "term"], name="doc_term_version"),
        ]

    def __str__(self) -> str:
        return f"{self.term}@{self.version_id}"
