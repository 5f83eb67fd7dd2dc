from django.urls import include, path

from suffrage.core import views

app_name = "core"

campaign_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("settings/", views.campaign_settings, name="settings"),
    path("settings/elections/new/", views.election_edit, name="election_new"),
    path("settings/elections/<int:election_id>/", views.election_edit, name="election_edit"),
    path("settings/elections/<int:election_id>/delete/", views.election_delete, name="election_delete"),
    path("audit/", views.audit_log, name="audit"),
    path("audit/export/", views.audit_export, name="audit_export"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
    path("jobs/<int:job_id>/progress/", views.job_progress, name="job_progress"),
    path("jobs/<int:job_id>/download/", views.job_download, name="job_download"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("language/", views.set_language, name="set_language"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation"),
    path("c/<slug:campaign_slug>/", include(campaign_patterns)),
]
