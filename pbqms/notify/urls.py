from django.urls import path

from . import views

app_name = "notify"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read-all/", views.read_all, name="read_all"),
    path("settings/", views.settings, name="settings"),
    path("<int:pk>/read/", views.read, name="read"),
    path("units/<str:code>/webhooks/", views.webhooks, name="webhooks"),
]
