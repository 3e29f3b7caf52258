from django.urls import path

from . import views, views_boards

app_name = "activities"
urlpatterns = [
    path("", views.home, name="home"),
    # the branch's month (日历) and its records (活动记录)
    path("calendar/", views.calendar_home, name="calendar_home"),
    path("units/<str:code>/calendar/", views.calendar, name="calendar"),
    path("units/<str:code>/calendar.xlsx", views.calendar_xlsx, name="calendar_xlsx"),
    path("units/<str:code>/records/", views.record_list, name="records"),
    path("units/<str:code>/records.xlsx", views.record_list_xlsx, name="records_xlsx"),
    path("units/<str:code>/records/new/", views.record_create, name="record_create"),
    path("records/<int:record_pk>/", views.record_detail, name="record"),
    path("records/<int:record_pk>/delete/", views.record_delete, name="record_delete"),
    path("records/<int:record_pk>/attendance/", views.record_attendance, name="record_attendance"),
    # each member's participation
    path("my/", views.my_participation, name="my"),
    path("my.xlsx", views.my_participation_xlsx, name="my_xlsx"),
    path("members/<int:member_pk>/", views.member_participation, name="member"),
    path("members/<int:member_pk>.xlsx", views.member_participation_xlsx, name="member_xlsx"),
    # the committee's heat map (热力图)
    path("heatmap/", views_boards.heatmap_home, name="heatmap_home"),
    path("units/<str:code>/heatmap/", views_boards.heatmap, name="heatmap"),
    path("units/<str:code>/heatmap.xlsx", views_boards.heatmap_xlsx, name="heatmap_xlsx"),
    # plans filed in advance (报备) and their review
    path("plans/", views_boards.plan_list, name="plans"),
    path("plans.xlsx", views_boards.plan_list_xlsx, name="plans_xlsx"),
    path("plans/line/", views_boards.plan_line, name="plan_line"),
    path("units/<str:code>/plans/new/", views_boards.plan_create, name="plan_create"),
    path("plans/<int:plan_pk>/", views_boards.plan_detail, name="plan"),
    path("plans/<int:plan_pk>/edit/", views_boards.plan_edit, name="plan_edit"),
    path("plans/<int:plan_pk>/review/", views_boards.plan_review, name="plan_review"),
    # record books (二图、三表、四本)
    path("units/<str:code>/books/", views_boards.book_index, name="books"),
    path("units/<str:code>/books/<str:book>/", views_boards.book_page, name="book"),
    path("units/<str:code>/books/<str:book>.docx", views_boards.book_docx, name="book_docx"),
    path("units/<str:code>/books/<str:book>.pdf", views_boards.book_pdf, name="book_pdf"),
]
