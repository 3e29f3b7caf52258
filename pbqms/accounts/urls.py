from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("language/", views.set_language, name="language"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user"),
    path("users/<int:pk>/roles/<int:assignment_pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path("users/<int:pk>/tokens/revoke/", views.user_tokens_revoke, name="user_tokens_revoke"),
    path("users/<int:pk>/active/", views.user_active, name="user_active"),
]
