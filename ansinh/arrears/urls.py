from django.urls import path

from ansinh.arrears import views

urlpatterns = [
    path("arrears/", views.arrears_page, name="arrears"),
    path("arrears/employers/<str:code>/", views.employer_page, name="arrears_employer"),
    path("arrears/review/", views.review_page, name="arrears_review"),
    path("arrears/review/<str:code>/letter.docx", views.reminder_letter, name="arrears_letter"),
    path(
        "arrears/review/<str:code>/letter.pdf",
        views.reminder_letter,
        {"fmt": "pdf"},
        name="arrears_letter_pdf",
    ),
    path("arrears/review/<str:code>/sent", views.reminder_sent, name="arrears_sent"),
    path("worklists/", views.worklists_page, name="worklists"),
    path("worklists/sync", views.worklists_sync, name="worklists_sync"),
    path("worklists/assign", views.worklists_assign, name="worklists_assign"),
    path("worklists/export.<str:fmt>", views.worklist_export, name="worklists_export"),
    path("worklists/<int:pk>/", views.followup_page, name="followup"),
]
