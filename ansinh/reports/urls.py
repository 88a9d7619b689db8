from django.urls import path

from ansinh.reports import views

urlpatterns = [
    path("reports/", views.reports_page, name="reports"),
    path("reports/issue/", views.report_issue_view, name="report_issue"),
    path("documents/", views.documents_page, name="documents"),
    path("documents/open/", views.register_open_view, name="register_open"),
]
