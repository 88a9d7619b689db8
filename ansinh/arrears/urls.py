from django.urls import path

from ansinh.arrears import views

urlpatterns = [
    path("arrears/", views.arrears_page, name="arrears"),
    path("arrears/employers/<str:code>/", views.employer_page, name="arrears_employer"),
    path("arrears/review/", views.review_page, name="arrears_review"),
    path("arrears/legal/", views.legal_page, name="arrears_legal"),
    path("arrears/legal/<str:code>/reminded", views.legal_record, name="arrears_legal_record"),
    path("arrears/letters.<str:fmt>", views.letters_bulk, name="arrears_letters"),
    path("arrears/employers.xlsx", views.employers_export, name="arrears_employers_xlsx"),
    path("arrears/offenders/", views.offenders_page, name="arrears_offenders"),
    path("arrears/offenders.<str:fmt>", views.offenders_export, name="arrears_offenders_export"),
    path("arrears/interest/", views.interest_page, name="arrears_interest"),
    path("arrears/review/<str:code>/letter.docx", views.reminder_letter, name="arrears_letter"),
    path(
        "arrears/review/<str:code>/letter.pdf",
        views.reminder_letter,
        {"fmt": "pdf"},
        name="arrears_letter_pdf",
    ),
    path("arrears/review/<str:code>/sent", views.reminder_sent, name="arrears_sent"),
    path("worklists/", views.worklists_page, name="worklists"),
    path("outbox/", views.outbox_page, name="outbox"),
    path("outbox/queue", views.outbox_queue, name="outbox_queue"),
    path("outbox/send", views.outbox_send, name="outbox_send"),
    path("outbox/templates/", views.outbox_templates, name="outbox_templates"),
    path("outbox/<int:pk>/requeue", views.outbox_requeue, name="outbox_requeue"),
    path("worklists/sync", views.worklists_sync, name="worklists_sync"),
    path("worklists/assign", views.worklists_assign, name="worklists_assign"),
    path("worklists/export.<str:fmt>", views.worklist_export, name="worklists_export"),
    path("worklists/<int:pk>/", views.followup_page, name="followup"),
]
