"""What the roster commands share: `--as USERNAME` and the report language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser


def add_actor_arguments(parser: CommandParser) -> None:
    parser.add_argument("--as", dest="as_user", metavar="USERNAME",
                        help="act as this user, within their scope (default: the system, with full scope)")
    parser.add_argument("--language", metavar="CODE",
                        help="language of messages and headers (default: the user's, else the site's)")


def resolve_actor(options: dict[str, Any]) -> tuple[Any, str]:
    from pbqms.accounts.models import User

    username = options.get("as_user")
    actor = None
    if username:
        actor = User.objects.filter(username=username).first()
        if actor is None or not actor.is_active:
            raise CommandError(f"No active user named {username!r}.")
    language = options.get("language") or (getattr(actor, "language", "") or settings.LANGUAGE_CODE)
    return actor, language
