from django.urls import path

from suffrage.texting import views

app_name = "texting"

urlpatterns = [
    path("", views.sms_list, name="list"),
    path("new/", views.sms_edit, name="new"),
    path("<int:sms_id>/", views.sms_detail, name="detail"),
    path("<int:sms_id>/edit/", views.sms_edit, name="edit"),
    path("<int:sms_id>/<slug:action>/", views.sms_action, name="action"),
    path("settings/", views.settings_edit, name="settings"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:conversation_id>/", views.conversation, name="conversation"),
    path("inbox/<int:conversation_id>/<slug:action>/", views.conversation_action, name="conversation_action"),
    path("answers/", views.canned_list, name="canned"),
    path("answers/new/", views.canned_edit, name="canned_new"),
    path("answers/<int:answer_id>/", views.canned_edit, name="canned_edit"),
]
