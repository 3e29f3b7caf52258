from django.urls import path

from . import views

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("search/", views.search, name="search"),
    path("new/", views.create, name="create"),
    path("<str:code>/", views.unit, name="unit"),
    path("<str:code>/children/", views.children, name="children"),
    path("<str:code>/members/", views.members, name="members"),
    path("<str:code>/history/", views.history, name="history"),
    path("<str:code>/edit/", views.edit, name="edit"),
    path("<str:code>/move/", views.move, name="move"),
    path("<str:code>/dissolve/", views.dissolve, name="dissolve"),
]
