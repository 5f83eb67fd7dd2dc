from django.urls import path

from suffrage.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.mailing_list, name="list"),
    path("new/", views.mailing_edit, name="new"),
    path("<int:mailing_id>/", views.mailing_detail, name="detail"),
    path("<int:mailing_id>/edit/", views.mailing_edit, name="edit"),
    path("<int:mailing_id>/preview/", views.mailing_preview, name="preview"),
    path("<int:mailing_id>/progress/", views.mailing_progress, name="progress"),
    path("<int:mailing_id>/<slug:action>/", views.mailing_action, name="action"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template_new"),
    path("templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path("senders/", views.sender_list, name="senders"),
    path("senders/<int:sender_id>/verify/", views.sender_verify, name="sender_verify"),
    path("transports/", views.transport_list, name="transports"),
    path("transports/new/", views.transport_edit, name="transport_new"),
    path("transports/<int:transport_id>/", views.transport_edit, name="transport_edit"),
    path("settings/", views.settings_edit, name="settings"),
]
