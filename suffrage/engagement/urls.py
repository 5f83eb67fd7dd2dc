"""Organisers' pages, under /c/<campaign_slug>/engagement/."""

from django.urls import path

from suffrage.engagement import views

app_name = "engagement"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("forms/new/", views.action_edit, name="action_new"),
    path("forms/<int:action_id>/", views.action_detail, name="action_detail"),
    path("forms/<int:action_id>/edit/", views.action_edit, name="action_edit"),
    path("forms/<int:action_id>/results/", views.action_results, name="action_results"),
    path("forms/<int:action_id>/export/", views.action_export, name="action_export"),
    path("events/new/", views.event_edit, name="event_new"),
    path("events/<int:event_id>/", views.event_detail, name="event_detail"),
    path("events/<int:event_id>/edit/", views.event_edit, name="event_edit"),
    path("events/<int:event_id>/results/", views.event_results, name="event_results"),
    path("events/<int:event_id>/export/", views.event_export, name="event_export"),
    path("events/<int:event_id>/checkin/", views.checkin, name="checkin"),
    path("events/<int:event_id>/walk-in/", views.walk_in, name="walk_in"),
    # Without the event in the address: the RSVP is found in the campaign (the QR code holds only the token).
    path("rsvps/<int:rsvp_id>/check-in/", views.rsvp_check_in, name="rsvp_check_in"),
    path("rsvps/<int:rsvp_id>/cancel/", views.rsvp_cancel, name="rsvp_cancel"),
    path("checkin/<str:token>/", views.checkin_token, name="checkin_token"),
    path("calls/new/", views.call_edit, name="call_new"),
    path("calls/<int:call_id>/", views.call_detail, name="call_detail"),
    path("calls/<int:call_id>/edit/", views.call_edit, name="call_edit"),
    path("site/", views.site_settings, name="site"),
    path("site/rotate-key/", views.site_key_rotate, name="site_rotate_key"),
]
