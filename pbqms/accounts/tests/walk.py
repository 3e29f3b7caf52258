"""How the scope walks reach the account settings (see pbqms/core/tests/walk_registry.py).

Inside: each role's own API token. Outside: the token of an account on B03, which no role of the
fixture administers.
"""

from __future__ import annotations

from typing import Any

from pbqms.accounts import services
from pbqms.accounts.models import ApiToken, Role
from pbqms.core.tests.walk_registry import Call, Case, Ctx

WEB_PARAMS = {"token_pk"}


def _token_pk(user: Any) -> int:
    return services.issue(user)[1].pk


def setup(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    outsider = services.create_user(None, username="token_outsider", password="x", validate=False)
    services.grant_role(None, outsider, Role.BRANCH_SECRETARY, tree.b03)
    return {"auth": {"own": {role: _token_pk(user) for role, user in users.items()},
                     "outside": _token_pk(outsider), "outsider": outsider.pk}}


def web_values(role: str, inside: bool, tree: Any, extra: dict[str, Any]) -> dict[str, str]:
    auth = extra["auth"]
    return {"token_pk": str(auth["own"][role] if inside else auth["outside"])}


def fingerprint() -> tuple[Any, ...]:
    return tuple(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at", "revoked_reason"))


def _auth(c: Ctx) -> dict[str, Any]:
    return c.extra["auth"]


API_CASES = {
    "auth_tokens_list": Case(inside=lambda c: [Call()],
                             outside=lambda c: [Call(query={"user": _auth(c)["outsider"]})]),
    "auth_tokens_revoke": Case(inside=lambda c: [Call(path_params={"id": _auth(c)["own"][c.role]})],
                               outside=lambda c: [Call(path_params={"id": _auth(c)["outside"]})]),
    "auth_logout": Case(inside=lambda c: [Call()], outside=lambda c: []),
}

# An internal auditor changes only what is their own: their tokens, their session and language,
# their inbox, and their acknowledgement of a document distributed to them. (Listed here, in one
# place, so the role's rights read at a glance; README's role table says the same.)
AUDITOR_WRITES = {
    "auth_tokens_revoke", "auth_logout", "accounts:token_revoke", "accounts:logout",
    "accounts:password_change", "accounts:language",
    "notifications_read_all", "notifications_read", "notify:read_all", "notify:read",
    "documents_acknowledge", "documents:acknowledge",
}
