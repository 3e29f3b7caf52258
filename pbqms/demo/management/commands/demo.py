"""`pbqms demo`: migrate, build the demo organisation (once), then serve it with a task worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pbqms.demo import builder, scale


class Command(BaseCommand):
    help = ("Build the demo organisation (钱营孜矿党委, seed 004) and serve it on 127.0.0.1:8000. "
            "With --scale N, build a synthetic group of N branches of about 30 people each instead.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=int, default=0, metavar="N",
                            help="build a synthetic group of N branches (about 30 N people) for benchmarks")
        parser.add_argument("--reset", action="store_true",
                            help="empty the database first and rebuild (destroys everything in it)")
        parser.add_argument("--no-serve", action="store_true", help="build only; do not start the server")
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port to serve on")

    def handle(self, *args: Any, **options: Any) -> None:
        log = self.stdout.write
        call_command("migrate", interactive=False, verbosity=0)
        if options["reset"]:
            log("Emptying the database (--reset)…")
            builder.reset_database()
        try:
            if options["scale"]:
                if options["scale"] < 1:
                    raise CommandError("--scale takes a positive number of branches.")
                scale.build_scale(options["scale"], log=log)
            else:
                builder.build_demo(log=log)
        except (builder.DemoConflict, scale.ScaleConflict) as err:
            raise CommandError(str(err))
        accounts = scale.ACCOUNTS if options["scale"] else builder.ACCOUNTS
        log(f"Demo accounts (password {builder.DEMO_PASSWORD}):")
        for username, role, code, what in accounts:
            log(f"  {username:<12} {role:<20} {code:<10} {what}")
        if not options["no_serve"]:
            self.serve(options["addr"])

    def serve(self, addr: str) -> None:
        """runserver in this process, a background-task worker beside it (roster imports run
        there), and the worker stopped when the server stops."""
        # Ctrl-C and a plain `kill` both stop the server through the `finally` below (a shell
        # starting us in the background would otherwise leave SIGINT ignored).
        previous = (signal.signal(signal.SIGINT, signal.default_int_handler),
                    signal.signal(signal.SIGTERM, _interrupt))
        worker = subprocess.Popen([sys.executable, "-m", "pbqms.cli", "worker", "--no-reload"],
                                  env=os.environ.copy())
        self.stdout.write(f"Task worker started (pid {worker.pid}).")
        try:
            call_command("runserver", addr, use_reloader=False)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
