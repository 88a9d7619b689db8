from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path

from ansinh.accounts import views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            extra_context={"session_hours": settings.SESSION_COOKIE_AGE // 3600},
        ),
        name="login",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("users/", views.users_page, name="users"),
    path("users/<int:user_id>/", views.user_detail, name="user_detail"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("audit/", views.audit_page, name="audit"),
]
