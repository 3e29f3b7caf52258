from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "roster"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="roster:import")),
    path("import/", views.import_page, name="import"),
    path("template.xlsx", views.template, name="template"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("jobs/<int:pk>/report.xlsx", views.job_report, name="job_report"),
    path("export/", views.export, name="export"),
]
