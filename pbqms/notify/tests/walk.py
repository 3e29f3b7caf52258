"""Teaches the scope walks about the notify app (see pbqms/core/tests/walk_registry.py).

Each role's user gets one message of their own (about B01); an account outside everybody's scope
gets one about B03, and B03 has a robot. Inside, a role reads and marks its own message; outside
is that other account's message, which answers 404 to everyone.
"""

from __future__ import annotations

from typing import Any

from pbqms.accounts import services as accounts
from pbqms.core.tests.walk_registry import Call, Case, Ctx
from pbqms.notify import services
from pbqms.notify.models import ChatWebhook, Delivery, Notification

OUTSIDE_TITLE = "越界消息第三支部"
OUTSIDE_WORDS = [OUTSIDE_TITLE, "outside-robot-token"]


def setup(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    own = {}
    for role, user in users.items():
        services.notify(key=f"walk:{role}", recipients=[user], title=f"走查消息 {role}", body="走查",
                        link="/members/", unit=tree.b01)
        own[role] = Notification.objects.get(recipient=user, key=f"walk:{role}").pk
    stranger = accounts.create_user(None, username="notify_stranger", password="x", validate=False)
    services.notify(key="walk:outside", recipients=[stranger], title=OUTSIDE_TITLE, body="越界",
                    unit=tree.b03)
    ChatWebhook.objects.create(unit=tree.b03, org_path=tree.b03.path, kind="wecom", enabled=True,
                               url="https://chat.invalid/send?key=outside-robot-token")
    other = Notification.objects.get(recipient=stranger, key="walk:outside").pk
    return {"notify_own": own, "notify_other": other}


WEB_PARAMS: set[str] = set()  # notify:read uses `pk` (given below as "notify:pk"), notify:webhooks `code`


def web_values(role: str, inside: bool, tree: Any, extra: dict[str, Any]) -> dict[str, str]:
    pk = extra["notify_own"][role] if inside else extra["notify_other"]
    return {"notify:pk": str(pk)}


API_CASES: dict[str, Case] = {
    "notifications_list": Case(
        inside=lambda c: [Call(query={"limit": 500}), Call(query={"unread": "true"}),
                          Call(query={"offset": 1})],
        outside=lambda c: [],
    ),
    "notifications_read": Case(
        inside=lambda c: [Call(path_params={"id": c.extra["notify_own"][c.role]})],
        outside=lambda c: [Call(path_params={"id": c.extra["notify_other"]}),
                           Call(path_params={"id": _someone_elses(c)})],
    ),
    "notifications_read_all": Case(inside=lambda c: [Call()], outside=lambda c: []),
}


def _someone_elses(c: Ctx) -> int:
    """Another role's message: inside the tree, but not the caller's."""
    return next(pk for role, pk in c.extra["notify_own"].items() if role != c.role)


def fingerprint() -> tuple[Any, ...]:
    return (sorted(Notification.objects.values_list("pk", "recipient_id", "read_at")),
            sorted(ChatWebhook.objects.values_list("pk", "enabled", "url")),
            Delivery.objects.count())


def outside_state(path: str) -> tuple[Any, ...]:
    return (sorted(Notification.objects.filter(org_path__startswith=path).values_list("pk", "read_at")),
            sorted(ChatWebhook.objects.filter(org_path__startswith=path).values_list("pk", "enabled", "url")))
