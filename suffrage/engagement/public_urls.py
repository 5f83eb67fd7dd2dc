"""Pages citizens reach, under /e/<campaign_slug>/ (no login). Each page also renders
embedded in the candidate's site with `?embed=1`."""

from django.urls import path

from suffrage.engagement import public

app_name = "engagement_public"

urlpatterns = [
    path("", public.home, name="home"),
    path("logo/", public.logo, name="logo"),
    path("embed.js", public.embed_js, name="embed_js"),
    path("f/<slug:slug>/", public.action_page, name="action"),
    path("f/<slug:slug>/thanks/", public.action_thanks, name="action_thanks"),
    path("confirm/<str:secret>/", public.confirm, name="confirm"),
    path("events/", public.events, name="events"),
    path("events/<slug:slug>/", public.event_page, name="event"),
    path("events/<slug:slug>/event.ics", public.event_calendar_file, name="event_ics"),
    path("ticket/<str:token>/", public.ticket, name="ticket"),
    path("a/<slug:slug>/", public.call_page, name="call"),
    path("a/<slug:slug>/go/", public.call_go, name="call_go"),
    path("api/person_signup/", public.person_signup, name="api_signup"),
]
