"""The `pbqms` console script: Django's management commands under the project's settings.

`pbqms worker` runs a background-task worker (django-tasks-db's db_worker) that also enqueues the
daily sweeps (pbqms.core.schedule). Command names with
dashes (`pbqms import-roster`) stand for Django's underscored ones, which cannot hold a dash.
"""

from __future__ import annotations

import os
import sys

ALIASES = {
    "import-roster": "import_roster",
    "export-roster": "export_roster",
}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbqms.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "pbqms"
    if len(args) > 1:
        args[1] = ALIASES.get(args[1], args[1].replace("-", "_"))
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
