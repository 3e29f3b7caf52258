"""API authentication — 接口认证: the token endpoint, bearer and session authenticators, and
the small helpers every router shares (the calling user, pagination)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from pbqms.audit.context import client_ip

from . import services
from .models import User
from .schemas import ErrorOut, TokenIn, TokenOut

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1  # beyond what any database here holds, and inside every backend's integer range


def _activate_language(request: HttpRequest, user: User) -> None:
    # LocaleMiddleware has already chosen from Accept-Language (default zh-hans); a user's own
    # choice wins, as it does in the web UI.
    if user.language:
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>` with a token from POST /auth/token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = services.user_for_token(token.strip())
        if user is None:
            return None
        request.user = user
        _activate_language(request, user)
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session, so the interactive docs work for a logged-in user.

    Unlike ninja's own session auth, CSRF is checked only once a session user is found, so a
    request carrying no credentials at all answers 401, not 403.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if check_csrf(request):
            raise HttpError(403, _("The CSRF check failed; reload the page."))
        _activate_language(request, user)
        return user


AUTH = [BearerAuth(), SessionAuth()]


def actor(request: HttpRequest) -> User:
    """The authenticated caller (set by BearerAuth or SessionAuth)."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


def page(qs: QuerySet[Any], limit: int, offset: int) -> tuple[list[Any], int]:
    """One page of `qs` and the total count: two queries whatever the size."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, min(offset, MAX_OFFSET))
    return list(qs[offset:offset + limit]), qs.count()


router = Router(tags=["auth"])


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut}, operation_id="auth_token",
             summary="Get an API token")
def token(request: HttpRequest, payload: TokenIn) -> Any:
    """Exchange a username and password for a bearer token. The same lockout as the web login
    applies (5 failures lock the account for 15 minutes) and every attempt is logged."""
    ip = client_ip(request)
    try:
        user = services.authenticate(payload.username, payload.password, ip=ip,
                                     user_agent=request.headers.get("User-Agent", ""))
    except services.LoginRefused as refused:
        return Status(401, {"detail": refused.message})
    _activate_language(request, user)
    if services.password_expired(user):
        return Status(401, {"detail": _("Your password has expired; change it in the web interface first.")})
    return {"token": services.issue_token(user, ip=ip)}
