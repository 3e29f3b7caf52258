from django.urls import include, path

from . import views, views_scoring

app_name = "assessment"
urlpatterns = [
    path("", views.home, name="home"),
    # schemes (考核细则)
    path("schemes/", views.scheme_list, name="schemes"),
    path("schemes/new/", views.scheme_create, name="scheme_create"),
    path("schemes/<int:scheme_pk>/", views.scheme_detail, name="scheme"),
    path("schemes/<int:scheme_pk>/publish/", views.scheme_publish, name="scheme_publish"),
    path("schemes/<int:scheme_pk>/copy/", views.scheme_copy, name="scheme_copy"),
    path("schemes/<int:scheme_pk>/compare/", views.scheme_compare, name="scheme_compare"),
    path("schemes/<int:scheme_pk>/items/new/", views.item_edit, name="item_create"),
    path("schemes/<int:scheme_pk>/items/<int:item_pk>/", views.item_edit, name="item_edit"),
    path("schemes/<int:scheme_pk>/items/<int:item_pk>/delete/", views.item_delete, name="item_delete"),
    path("schemes/<int:scheme_pk>/plan/", views.plan_create, name="plan_create"),
    # plans (考核计划) and periods (考核期)
    path("plans/<int:plan_pk>/", views.plan_detail, name="plan"),
    path("plans/<int:plan_pk>/models/", views.plan_model_branches, name="model_branches"),
    path("periods/<int:period_pk>/", views.period_detail, name="period"),
    path("periods/<int:period_pk>/move/", views.period_move, name="period_move"),
    path("periods/<int:period_pk>/panel/", views.period_panel, name="period_panel"),
    path("periods/<int:period_pk>/analysis/", views.period_analysis, name="period_analysis"),
    # score sheets (评分表)
    path("periods/<int:period_pk>/units/<str:code>/self/", views_scoring.open_unit_sheet, {"kind": "self"},
         name="open_self"),
    path("periods/<int:period_pk>/units/<str:code>/assess/", views_scoring.open_unit_sheet, {"kind": "assessor"},
         name="open_assess"),
    path("periods/<int:period_pk>/members/<int:member_pk>/self/", views_scoring.open_member_sheet,
         {"kind": "self"}, name="open_member_self"),
    path("periods/<int:period_pk>/members/<int:member_pk>/assess/", views_scoring.open_member_sheet,
         {"kind": "assessor"}, name="open_member_assess"),
    path("sheets/<int:sheet_pk>/", views_scoring.sheet_detail, name="sheet"),
    path("sheets/<int:sheet_pk>/items/<int:item_pk>/", views_scoring.sheet_row, name="sheet_row"),
    path("sheets/<int:sheet_pk>/submit/", views_scoring.sheet_submit, name="sheet_submit"),
    path("sheets/<int:sheet_pk>/withdraw/", views_scoring.sheet_withdraw, name="sheet_withdraw"),
    # results, rankings, dashboards, stars and bulletins (views_results.py)
    path("", include("pbqms.assessment.urls_results")),
]
