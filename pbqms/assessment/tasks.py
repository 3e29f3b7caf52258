"""Background tasks of the assessment results (django-tasks; `pbqms worker` runs them).

A bulletin over thousands of units takes WeasyPrint a while: the committee may ask for it to be
built in the background. The task builds the .docx and the PDF with the requester's scope and
language, keeps both through pbqms.files (owner ``assessment.period:<pk>``, filed under the
committee running the plan) and tells the requester in the inbox. Running it twice only keeps a
second copy; the message goes once per built pair.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_tasks import task

OWNER = "assessment.period:{pk}"


@task()
def build_bulletin_task(period_id: int, user_id: int, language: str = "zh-hans") -> list[int]:
    """Build and keep the bulletin of a period; returns the stored files' ids."""
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import gettext as _

    from pbqms.assessment import bulletin
    from pbqms.assessment.models import Period
    from pbqms.files import services as files
    from pbqms.notify.services import notify

    user = get_user_model().objects.get(pk=user_id)
    period = Period.objects.select_related("plan__owner", "scheme").get(pk=period_id)
    with translation.override(language):
        b = bulletin.bulletin_data(user, period)
        docx, pdf = bulletin.bulletin_docx(b), bulletin.bulletin_pdf(b)
        owner = OWNER.format(pk=period.pk)
        stored = [files.store_upload(user, ContentFile(content, name=bulletin.filename(b, ext)),
                                     unit=period.plan.owner, owner=owner)
                  for content, ext in ((docx, "docx"), (pdf, "pdf"))]
        notify(key=f"assessment.bulletin:{period.pk}:{stored[0].pk}", recipients=[user],
               title=_("The bulletin of %(period)s is ready") % {"period": period.key},
               body=b.title, link=reverse("assessment:bulletin", kwargs={"period_pk": period.pk}),
               email=False, chat=False)
    return [s.pk for s in stored]


def request_bulletin(actor: Any, period: Any, language: str) -> None:
    """Queue the build once the current transaction commits (the caller has checked the right)."""
    transaction.on_commit(lambda: build_bulletin_task.enqueue(period.pk, actor.pk, language))


@task()
def close_months_task() -> int:
    """Daily (pbqms.core.schedule): close the monthly self-checks whose month has ended (22.7)."""
    from pbqms.assessment import cadence

    return cadence.close_months()
