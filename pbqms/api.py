"""REST API root — /api/v1/. Each capability adds its router from its own api.py.

Every operation but POST /auth/token needs a bearer token (or a signed-in session, for the
interactive docs). Refusals answer {"detail": message} in the caller's language: 401 without
credentials, 403 inside scope without the right, 404 outside scope, 422 when a rule refuses.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError
from ninja.renderers import JSONRenderer

from pbqms.accounts.api import AUTH
from pbqms.accounts.api import router as auth_router
from pbqms.activities.api import router as activities_router
from pbqms.assessment.api import router as assessment_router
from pbqms.documents.api import router as documents_router
from pbqms.members.api import router as members_router
from pbqms.notify.api import router as notify_router
from pbqms.objectives.api import router as objectives_router
from pbqms.orgs.api import router as units_router
from pbqms.rectification.api import router as rectification_router


class _Renderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # Chinese names stay readable in the raw JSON


def _docs_for_users(view):  # type: ignore[no-untyped-def]
    """The OpenAPI document and the interactive docs: public only where PBQMS_PUBLIC_API_DOCS is on
    (a development machine); elsewhere a signed-in session or a valid bearer token is needed."""
    from functools import wraps

    from django.http import JsonResponse
    from django.shortcuts import redirect
    from django.urls import reverse

    from pbqms.accounts.services import user_for_token

    @wraps(view)
    def wrapped(request, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not settings.PBQMS_PUBLIC_API_DOCS and not request.user.is_authenticated:
            header = request.headers.get("Authorization", "")
            key = header[7:].strip() if header.lower().startswith("bearer ") else ""
            if not (key and user_for_token(key)):
                if request.path.endswith("openapi.json"):
                    return JsonResponse({"detail": _("Sign in first: send a valid API token.")}, status=401)
                return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapped


api = NinjaAPI(
    title="PBQMS API",
    version="1",
    description="党建质量管理体系平台 — units and people, scoped like the web UI. "
                "Get a token from POST /api/v1/auth/token, then send `Authorization: Bearer <token>`.",
    urls_namespace="api",
    auth=AUTH,
    # Swagger UI from ninja's own static files (ninja is in INSTALLED_APPS); no validator badge,
    # which would call validator.swagger.io: the system runs on isolated intranets.
    docs=Swagger(settings={"validatorUrl": None}),
    docs_decorator=_docs_for_users,
    renderer=_Renderer(),
)

api.add_router("/auth", auth_router)
api.add_router("/units", units_router)
api.add_router("/members", members_router)
api.add_router("/notifications", notify_router)
api.add_router("/rectification", rectification_router)
api.add_router("/activities", activities_router)
api.add_router("/documents", documents_router)
api.add_router("/objectives", objectives_router)
api.add_router("/assessment", assessment_router)


def _detail(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return api.create_response(request, {"detail": message}, status=status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _detail(request, " ".join(exc.messages), 422)


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _detail(request, _("You may not change this record."), 403)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Outside the caller's scope looks exactly like a record that does not exist.
    return _detail(request, _("Not found."), 404)


@api.exception_handler(OverflowError)
def _number_out_of_range(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # SQLite cannot bind an integer beyond 64 bits (PostgreSQL answers such a look-up with nothing):
    # an id or filter that large is bad input, never a server error.
    return _detail(request, _("A number in the request is out of range."), 422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _detail(request, _("Sign in first: send a valid API token."), 401)
