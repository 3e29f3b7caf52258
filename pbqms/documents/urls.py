from django.urls import path

from . import views, views_flow

app_name = "documents"
urlpatterns = [
    path("", views.document_list, name="list"),
    path("export/", views.list_export, name="export"),
    path("search/", views.search, name="search"),
    path("todo/", views.todo, name="todo"),
    path("new/", views_flow.create, name="create"),
    path("patterns/", views_flow.patterns, name="patterns"),
    path("book/<str:code>/", views.book_pdf, name="book"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/v<int:number>/", views.version_detail, name="version"),
    path("<int:pk>/acknowledgements/", views.acknowledgement_list, name="acknowledgements"),
    path("<int:pk>/files/<uuid:token>/", views.attachment, name="attachment"),
    path("<int:pk>/settings/", views_flow.edit, name="edit"),
    path("<int:pk>/draft/", views_flow.draft, name="draft"),
    path("<int:pk>/new-version/", views_flow.new_version, name="new_version"),
    path("<int:pk>/submit/", views_flow.submit, name="submit"),
    path("<int:pk>/review/", views_flow.review, name="review"),
    path("<int:pk>/approve/", views_flow.approve, name="approve"),
    path("<int:pk>/publish/", views_flow.publish, name="publish"),
    path("<int:pk>/abolish/", views_flow.abolish, name="abolish"),
    path("<int:pk>/acknowledge/", views_flow.acknowledge, name="acknowledge"),
    path("<int:pk>/periodic-review/", views_flow.periodic_review, name="periodic_review"),
    path("<int:pk>/attach/", views_flow.attach, name="attach"),
]
