from django.core.management.base import BaseCommand

from pbqms.orgs import tally


class Command(BaseCommand):
    help = "Rebuild the stored subtree totals (组织统计) from the records."

    def handle(self, *args, **options):
        rows = tally.recount()
        self.stdout.write(f"{rows} totals rebuilt")
