from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyRun(models.Model):
    """One daily job enqueued for one day — 定时任务记录. The unique pair makes the daily schedule
    idempotent: however many workers run, each job is enqueued once a day."""

    job = models.CharField(_("job"), max_length=80)
    day = models.DateField(_("day"))
    enqueued_at = models.DateTimeField(_("enqueued at"), auto_now_add=True)

    class Meta:
        verbose_name = _("daily run (定时任务记录)")
        verbose_name_plural = _("daily runs (定时任务记录)")
        constraints = [models.UniqueConstraint(fields=["job", "day"], name="one_daily_run_per_day")]

    def __str__(self) -> str:
        return f"{self.job} {self.day}"
