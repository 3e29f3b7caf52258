from django.urls import path

from . import views, views_boards

app_name = "rectification"
urlpatterns = [
    path("", views.todo, name="todo"),
    # findings (问题)
    path("findings/", views.finding_list, name="findings"),
    path("findings/new/", views.finding_create, name="finding_create"),
    path("findings/<int:finding_pk>/", views.finding_detail, name="finding"),
    path("findings/<int:finding_pk>/withdraw/", views.finding_withdraw, name="finding_withdraw"),
    path("findings/<int:finding_pk>/verify/", views.finding_verify, name="finding_verify"),
    # notices (整改通知书) and their feedback (整改反馈单)
    path("notices/", views.notice_list, name="notices"),
    path("notices/new/", views.notice_create, name="notice_create"),
    path("notices/<int:notice_pk>/", views.notice_detail, name="notice"),
    path("notices/<int:notice_pk>/issue/", views.notice_issue, name="notice_issue"),
    path("notices/<int:notice_pk>/discard/", views.notice_discard, name="notice_discard"),
    path("notices/<int:notice_pk>/receive/", views.notice_receive, name="notice_receive"),
    path("notices/<int:notice_pk>/feedback/", views.notice_feedback, name="notice_feedback"),
    path("notices/<int:notice_pk>/return/", views.notice_return, name="notice_return"),
    path("notices/<int:notice_pk>/close/", views.notice_close, name="notice_close"),
    path("notices/<int:notice_pk>/print.docx", views.notice_docx, name="notice_docx"),
    path("notices/<int:notice_pk>/print.pdf", views.notice_pdf, name="notice_pdf"),
    # ledger (整改台账), dashboard, settings
    path("ledger/", views_boards.ledger_home, name="ledger_home"),
    path("units/<str:code>/ledger/", views_boards.ledger, name="ledger"),
    path("units/<str:code>/ledger.xlsx", views_boards.ledger_xlsx, name="ledger_xlsx"),
    path("dashboard/", views_boards.dashboard_home, name="dashboard_home"),
    path("units/<str:code>/dashboard/", views_boards.dashboard, name="dashboard"),
    path("units/<str:code>/dashboard.xlsx", views_boards.dashboard_xlsx, name="dashboard_xlsx"),
    path("units/<str:code>/settings/", views_boards.settings_page, name="settings"),
    # preventive actions (预防措施)
    path("preventive/", views_boards.preventive_list, name="preventive_list"),
    path("preventive/<int:action_pk>/", views_boards.preventive_detail, name="preventive"),
    path("preventive/<int:action_pk>/accept/", views_boards.preventive_accept, name="preventive_accept"),
    path("preventive/<int:action_pk>/done/", views_boards.preventive_complete, name="preventive_done"),
    path("preventive/<int:action_pk>/verify/", views_boards.preventive_verify, name="preventive_verify"),
    path("preventive/<int:action_pk>/dismiss/", views_boards.preventive_dismiss, name="preventive_dismiss"),
]
