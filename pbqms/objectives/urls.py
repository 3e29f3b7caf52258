from django.urls import path

from . import views, views_letters, views_members

app_name = "objectives"
urlpatterns = [
    path("", views.objective_list, name="list"),
    path("new/", views.objective_create, name="objective_create"),
    path("<int:objective_pk>/", views.objective_detail, name="objective"),
    path("<int:objective_pk>/edit/", views.objective_edit, name="objective_edit"),
    path("policy/<str:code>/", views.policy, name="policy"),
    path("common/<str:code>/", views_members.common, name="common"),
    path("units/<str:code>/", views.unit_targets, name="unit_targets"),
    path("units/<str:code>/new/", views.target_create, name="target_create"),
    path("units/<str:code>/members/", views_members.member_targets, name="member_targets"),
    path("units/<str:code>/letter/", views_letters.letter_draw_up, name="letter_draw_up"),
    path("targets/<int:target_pk>/", views.target_detail, name="target"),
    path("targets/<int:target_pk>/edit/", views.target_edit, name="target_edit"),
    path("mine/", views_members.mine, name="mine"),
    path("member-targets/<int:mt_pk>/", views_members.member_target, name="member_target"),
    path("member-targets/<int:mt_pk>/review/", views_members.review, name="review"),
    path("dashboard/", views.dashboard_home, name="dashboard_home"),
    path("dashboard/<str:code>/", views.dashboard, name="dashboard"),
    path("letters/", views_letters.letter_list, name="letters"),
    path("letters/<int:letter_pk>/", views_letters.letter_detail, name="letter"),
    path("letters/<int:letter_pk>/docx/", views_letters.letter_docx, name="letter_docx"),
    path("letters/<int:letter_pk>/pdf/", views_letters.letter_pdf, name="letter_pdf"),
]
