"""The `pbqms` console script: Django's management commands under the project's settings.

`pbqms worker` runs a background-task worker (django-tasks-db's db_worker).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbqms.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "pbqms"
    if len(args) > 1 and args[1] == "worker":
        args[1] = "db_worker"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
