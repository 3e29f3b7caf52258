"""The demo's document set — 钱营孜矿党委体系文件, built through the services (see seed_texts):
the manual, three procedures, two work instructions, 18 regulations in the book's three blocks
and their record forms; a version history (some documents in their 2nd or 3rd version), one
abolished regulation, one draft in review, one draft being written, periodic reviews due and
overdue, and acknowledgements (most read, some not).

Three hands sign every version: the department's officer writes it (编制), the head of the
political-work department reviews it (审核) and the committee secretary approves it (批准); each
step runs as of its own day (pbqms.core.clock), the approval before the version takes force."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from pbqms.accounts.models import User
from pbqms.core import clock
from pbqms.orgs.models import Unit

from . import circulation, seed_texts, services
from .models import Acknowledgement, Document, DocumentVersion, LinkKind, PeriodicReview, Tier, VersionStatus

PATTERNS = {Tier.MANUAL: "QYZ-SC-{seq:02d}", Tier.PROCEDURE: "QYZ-CX-{seq:02d}",
            Tier.WORK_INSTRUCTION: "QYZ-ZY-{seq:02d}", Tier.REGULATION: "QYZ-ZD-{seq:03d}",
            Tier.RECORD_FORM: "QYZ-JL-{seq:03d}"}
# The demo mine's "六考一评" items (pbqms/assessment/fixtures/liukao.py) each document serves.
ITEMS = {"assembly": "DJ03", "committee": "DJ03", "group": "DJ03", "lecture": "DJ04", "develop": "DJ09",
         "education": "DJ10", "lifemeeting": "DJ06 DJ07", "talk": "DJ08", "dues": "DJ12", "integrity": "DF02 DF03",
         "partycommittee": "DJ14", "major": "DF05", "survey": "XC02", "congress": "GH01", "openness": "DJ23 GH02"}
# Documents read by everybody but these (username → keys left unread).
UNREAD = {"member01": {"develop", "talk", "wi_develop"}, "branch01": {"talk"}, "organiser01": {"assembly"},
          "group01": {"integrity", "major"}}
TEXT_FIELDS = ("purpose", "scope_text", "duties", "procedure", "body", "what", "why", "who", "when", "how",
               "standard")


class _Demo:
    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.mine = Unit.objects.get(code="QYZ")
        self.writer = User.objects.get(username="assessor")  # 政治工作部干事: 编制
        self.reviewer = User.objects.get(username="minister")  # 政治工作部部长: 审核
        self.approver = User.objects.get(username="committee")  # 党委书记: 批准
        self.today = timezone.localdate()
        self.docs: dict[str, Document] = {}
        self.reads: list[tuple[Acknowledgement, DocumentVersion]] = []

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def create(self, key: str, tier: str, item: dict[str, Any], *, order: int, interval: int = 12) -> Document:
        text = {f: item[f] for f in TEXT_FIELDS if item.get(f)}
        doc = services.create_document(self.writer, unit=self.mine, tier=tier, title=item["title"],
                                       applies_to=[self.mine], book_part=item.get("block", ""), order=order,
                                       review_interval_months=interval, assessment_items=ITEMS.get(key, ""), **text)
        self.docs[key] = doc
        return doc

    def publish(self, doc: Document, days_ago: int) -> DocumentVersion:
        version = services.open_version(doc)
        assert version is not None
        with clock.as_of(self.day(days_ago + 7)):
            services.submit(self.writer, version)
        with clock.as_of(self.day(days_ago + 5)):
            services.review(self.reviewer, version, passed=True, comment="内容符合实际，同意提交批准。")
        with clock.as_of(self.day(days_ago + 2)):
            services.approve(self.approver, version, comment="同意发布施行。")
        with clock.as_of(self.day(days_ago)):
            version = services.publish(self.writer, version, effective_from=self.day(days_ago))
        sent = timezone.now() - dt.timedelta(days=days_ago)
        Acknowledgement.objects.filter(version=version).update(sent_at=sent)
        DocumentVersion.objects.filter(pk=version.pk).update(published_at=sent)
        return version

    def read_all(self, version: DocumentVersion, key: str, days_ago: int) -> None:
        """Everybody but the UNREAD ones confirms having read the version, three days after it
        went out. Written in bulk (#20): the same rows and audit entries `circulation.acknowledge`
        writes, one statement per reader at the end (`flush_reads`) instead of one call per read."""
        when = timezone.now() - dt.timedelta(days=max(0, days_ago - 3))
        for ack in Acknowledgement.objects.filter(version=version).select_related("user"):
            if key in UNREAD.get(ack.user.username, set()):
                continue
            ack.acknowledged_at = when
            self.reads.append((ack, version))

    def flush_reads(self) -> None:
        from pbqms.audit import services as audit
        from pbqms.audit.models import AuditAction, AuditEntry

        Acknowledgement.objects.bulk_update([a for a, _v in self.reads], ["acknowledged_at"], batch_size=500)
        AuditEntry.objects.bulk_create([
            audit._entry(ack.user, AuditAction.ACKNOWLEDGE, ack, {"acknowledged_at": [
                None, ack.acknowledged_at.isoformat() if ack.acknowledged_at else None]},
                f"{version.document.number} v{version.number}")
            for ack, version in self.reads], batch_size=1000)
        self.reads = []

    def revise(self, key: str, summary: str, field: str, text: str, days_ago: int) -> None:
        doc = Document.objects.get(pk=self.docs[key].pk)
        version = services.new_version(self.writer, doc, change_summary=summary)
        services.edit_draft(self.writer, version, **{field: text})
        version = self.publish(doc, days_ago)
        self.read_all(version, key, days_ago)


def build(log: Callable[[str], None] = print) -> None:
    d = _Demo(log)
    for tier, pattern in PATTERNS.items():
        services.set_numbering_pattern(None, d.mine, tier, pattern)
    first = 360  # the system went live about a year ago
    plan: list[tuple[str, Document, int]] = []
    plan.append(("manual", d.create("manual", Tier.MANUAL, seed_texts.MANUAL, order=0), first))
    for i, p in enumerate(seed_texts.PROCEDURES, 1):
        plan.append((p["key"], d.create(p["key"], Tier.PROCEDURE, p, order=i), first))
    for i, w in enumerate(seed_texts.WORK_INSTRUCTIONS, 1):
        plan.append((w["key"], d.create(w["key"], Tier.WORK_INSTRUCTION, w, order=i), first - 20))
    for i, r in enumerate(seed_texts.REGULATIONS, 1):
        # 党费 is reviewed every 6 months (overdue now), 谈心谈话 came a little later (due soon)
        interval = 6 if r["key"] == "dues" else 12
        days = 340 if r["key"] == "talk" else (200 if r["key"] == "dues" else first)
        plan.append((r["key"], d.create(r["key"], Tier.REGULATION, r, order=i, interval=interval), days))
    forms: dict[str, list[Document]] = {}
    n = 0
    for r in seed_texts.REGULATIONS:
        for title, body in r["forms"]:
            n += 1
            doc = d.create(f"form{n}", Tier.RECORD_FORM, {"title": title, "body": body, "block": r["block"]}, order=n,
                           interval=24)
            forms.setdefault(r["key"], []).append(doc)
            plan.append((f"form{n}", doc, first))
    old = d.create("elearning", Tier.REGULATION, seed_texts.ABOLISHED, order=99)
    plan.append(("elearning", old, first))
    for key, doc, days in plan:
        version = d.publish(doc, days)
        d.read_all(version, key, days)
    d.flush_reads()
    d.log(f"  {len(plan)} documents published")

    # links: procedures → their block's regulations and work instructions; regulations → forms
    for p in seed_texts.PROCEDURES:
        targets = [(d.docs[r["key"]], LinkKind.REGULATION) for r in seed_texts.REGULATIONS if r["block"] == p["block"]]
        targets += [(d.docs[w["key"]], LinkKind.WORK_INSTRUCTION) for w in seed_texts.WORK_INSTRUCTIONS
                    if w["block"] == p["block"]]
        services.set_links(d.writer, d.docs[p["key"]], targets)
    for w in seed_texts.WORK_INSTRUCTIONS:
        services.set_links(d.writer, d.docs[w["key"]], [(d.docs[k], LinkKind.REGULATION) for k in w["links"]])
    for key, docs in forms.items():
        services.set_links(d.writer, d.docs[key], [(f, LinkKind.RECORD_FORM) for f in docs])
    services.set_links(d.writer, d.docs["manual"],
                       [(d.docs[p["key"]], LinkKind.RELATED) for p in seed_texts.PROCEDURES])

    # history: later versions of three regulations
    for key, revisions in seed_texts.REVISIONS.items():
        for i, (summary, field, text) in enumerate(revisions):
            d.revise(key, summary, field, text, days_ago=200 - i * 120 if key != "talk" else 160)
    d.flush_reads()
    services.abolish(d.approver, Document.objects.get(pk=d.docs["elearning"].pk), on=d.day(100),
                     reason="内容已并入《党员教育管理制度》，本办法不再单独执行。")

    # periodic reviews: 谈心谈话 due soon and 党费 overdue stay open; 党委会议事规程 was confirmed
    for key, due in (("talk", 12), ("dues", -17)):
        PeriodicReview.objects.filter(document=d.docs[key], reviewed_on__isnull=True).update(due_on=d.day(-due))
    review = PeriodicReview.objects.filter(document=d.docs["partycommittee"], reviewed_on__isnull=True).first()
    if review is not None:
        PeriodicReview.objects.filter(pk=review.pk).update(due_on=d.day(5))
        review.refresh_from_db()
        circulation.record_review(d.writer, review, outcome="still_valid", today=d.day(3),
                                  note="对照新修订的《中国共产党支部工作条例（试行）》评审，规程仍然适用。")

    # work in progress: 党课制度 in review, 组织生活会 being drafted
    lecture = Document.objects.get(pk=d.docs["lecture"].pk)
    v = services.new_version(d.writer, lecture,
                             change_summary="增加“书记讲党课”和线上党课的要求：上季度检查发现党课形式单一。")
    services.edit_draft(d.writer, v, procedure=seed_texts.REGULATIONS[3]["procedure"]
                        + "\n五、党支部书记每年至少讲一次党课；可结合平台线上学习开展，"
                          "线上党课同样记录参加人员和讨论情况。")
    services.submit(d.writer, v)
    life = Document.objects.get(pk=d.docs["lifemeeting"].pk)
    v = services.new_version(d.writer, life, change_summary="根据年度民主评议情况补充测评结果运用。")
    services.edit_draft(d.writer, v, procedure=seed_texts.REGULATIONS[6]["procedure"]
                        + "\n五、民主评议结果与党员量化积分、评先评优挂钩。")
    total = Document.objects.filter(org_path__startswith=d.mine.path).count()
    unread = Acknowledgement.objects.filter(acknowledged_at__isnull=True,
                                            version__status=VersionStatus.PUBLISHED).count()
    d.log(f"  {total} documents, {DocumentVersion.objects.count()} versions, {unread} acknowledgements outstanding")
