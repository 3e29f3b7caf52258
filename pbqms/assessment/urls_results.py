"""Routes of the results pages (views_results.py), included by the app's urls.py under its namespace."""

from django.urls import path

from . import views_results as v

urlpatterns = [
    path("results/", v.results_home, name="results_home"),
    path("results/<int:period_pk>/", v.ranking, name="ranking"),
    # the same page under the name the period pages link to
    path("results/<int:period_pk>/", v.ranking, name="results"),
    path("results/<int:period_pk>/units/<str:code>/", v.scorecard, name="scorecard"),
    path("results/<int:period_pk>/units/<str:code>/findings/", v.raise_findings, name="raise_findings"),
    path("results/<int:period_pk>/members/<int:member_pk>/", v.member_scorecard, name="member_scorecard"),
    path("results/<int:period_pk>/dashboard/", v.dashboard, name="dashboard"),
    path("results/<int:period_pk>/bulletin/", v.bulletin_page, name="bulletin"),
    path("results/<int:period_pk>/bulletin.docx", v.bulletin_docx, name="bulletin_docx"),
    path("results/<int:period_pk>/bulletin.pdf", v.bulletin_pdf, name="bulletin_pdf"),
    path("results/<int:period_pk>/bulletin/build/", v.bulletin_build, name="bulletin_build"),
    path("plans/<int:plan_pk>/stars/", v.stars, name="stars"),
    path("plans/<int:plan_pk>/stars/publicise/", v.stars_publicise, name="stars_publicise"),
    path("plans/<int:plan_pk>/stars/confirm/", v.stars_confirm, name="stars_confirm"),
    path("stars/<int:rating_pk>/", v.star_rating, name="star_rating"),
    path("plans/<int:plan_pk>/linkage/", v.linkage_page, name="linkage"),
    path("plans/<int:plan_pk>/linkage.xlsx", v.linkage_xlsx, name="linkage_xlsx"),
]
