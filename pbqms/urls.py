from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from pbqms.api import api

urlpatterns = [
    path("", include("pbqms.core.urls")),
    path("accounts/", include("pbqms.accounts.urls")),
    path("units/", include("pbqms.orgs.urls")),
    path("members/", include("pbqms.members.urls")),
    path("roster/", include("pbqms.roster.urls")),
    path("audit/", include("pbqms.audit.urls")),
    path("files/", include("pbqms.files.urls")),
    path("notifications/", include("pbqms.notify.urls")),
    path("rectification/", include("pbqms.rectification.urls")),
    path("activities/", include("pbqms.activities.urls")),
    path("documents/", include("pbqms.documents.urls")),
    path("objectives/", include("pbqms.objectives.urls")),
    path("assessment/", include("pbqms.assessment.urls")),
    path("api/v1/", api.urls),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]
