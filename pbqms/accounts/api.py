"""API authentication — 接口认证: the token endpoint, bearer and session authenticators, and
the small helpers every router shares (the calling user, pagination)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from pbqms import scope
from pbqms.audit.context import client_ip

from . import services
from .models import ApiToken, User
from .schemas import DetailOut, ErrorOut, TokenIn, TokenList, TokenOut

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1  # beyond what any database here holds, and inside every backend's integer range
# Every `year` parameter of the API: the People's Republic's years up to the end of this century, so
# no year reaches the calendar or the database out of range (422 instead of 500).
YEAR_MIN, YEAR_MAX = 1949, 2100


def _activate_language(request: HttpRequest, user: User) -> None:
    # LocaleMiddleware has already chosen from Accept-Language (default zh-hans); a user's own
    # choice wins, as it does in the web UI.
    if user.language:
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>` with a token from POST /auth/token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = services.token_for_key(token.strip())
        if found is None:
            return None
        user = found.user
        request.user = user
        request.api_token = found  # type: ignore[attr-defined]
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


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut, 429: ErrorOut}, operation_id="auth_token",
             summary="Get an API token")
def token(request: HttpRequest, payload: TokenIn) -> Any:
    """Exchange a username and password for a bearer token. The same lockout as the web login
    applies (5 failures lock the account for 15 minutes; 20 failures from one address within 15
    minutes refuse that address with 429) and every attempt is logged."""
    ip = client_ip(request)
    try:
        user = services.authenticate(payload.username, payload.password, ip=ip,
                                     user_agent=request.headers.get("User-Agent", ""))
    except services.LoginRefused as refused:
        return Status(429 if isinstance(refused, services.LoginThrottled) else 401, {"detail": refused.message})
    _activate_language(request, user)
    if services.password_expired(user):
        return Status(401, {"detail": _("Your password has expired; change it in the web interface first.")})
    key, issued = services.issue(user, ip=ip)
    return {"token": key, "id": issued.pk, "expires_at": issued.expires_at}


def _token_info(t: ApiToken) -> dict[str, Any]:
    return {"id": t.pk, "user": t.user_id, "username": t.user.username, "created_at": t.created_at,
            "expires_at": t.expires_at, "last_used_at": t.last_used_at, "ip": t.ip,
            "active": t.revoked_at is None, "revoked_at": t.revoked_at, "revoked_reason": t.revoked_reason}


@router.get("/tokens", response={200: TokenList, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
            operation_id="auth_tokens_list", summary="List an account's API tokens")
def tokens_list(request: HttpRequest, user: int | None = Query(None, ge=1, le=2**31 - 1)) -> Any:
    """The caller's own tokens still within their lifetime (live and revoked), or those of an
    account the caller administers (`user`: its id)."""
    me = actor(request)
    account = me if user in (None, me.pk) else scope.accounts(me).filter(pk=user).first()
    if account is None:
        return Status(404, {"detail": _("No such account in your scope.")})
    tokens = list(services.tokens_of(me, account).select_related("user")[:MAX_LIMIT])
    return {"items": [_token_info(t) for t in tokens], "count": len(tokens)}


@router.delete("/tokens/{id}", response={200: DetailOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
               operation_id="auth_tokens_revoke", summary="Revoke an API token")
def tokens_revoke(request: HttpRequest, id: int = Path(..., ge=1, le=2**31 - 1)) -> Any:
    """Revoke one token: one's own, or one of an account one administers."""
    me = actor(request)
    token = ApiToken.objects.select_related("user").filter(pk=id).first()
    if token is None or not services.may_manage_tokens_of(me, token.user):
        return Status(404, {"detail": _("No such token.")})
    services.revoke_token(me, token)
    return {"detail": _("The token is revoked.")}


@router.post("/logout", response={200: DetailOut, 401: ErrorOut}, operation_id="auth_logout",
             summary="Sign out: revoke the token of this request")
def logout(request: HttpRequest) -> Any:
    """Revoke the bearer token this request carries (a browser session is signed out from the web
    interface instead, which also ends every token of the account)."""
    token = getattr(request, "api_token", None)
    if token is None:
        return {"detail": _("No token in this request: sign out in the web interface.")}
    services.revoke_token(actor(request), token)
    return {"detail": _("The token is revoked.")}
