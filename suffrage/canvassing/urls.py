"""Organisers' pages and the calling page, under /c/<campaign_slug>/canvassing/.

Each address names one object at most: a turf or a question is found in the
campaign, and its canvass comes from it."""

from django.urls import path

from suffrage.canvassing import views

app_name = "canvassing"

urlpatterns = [
    path("", views.canvass_list, name="list"),
    path("new/", views.canvass_edit, name="new"),
    path("stations.geojson", views.stations_map, name="stations_map"),
    path("<int:canvass_id>/", views.canvass_detail, name="detail"),
    path("<int:canvass_id>/edit/", views.canvass_edit, name="edit"),
    path("<int:canvass_id>/plan/", views.canvass_plan, name="plan"),
    path("<int:canvass_id>/call-list/", views.call_list_build, name="call_list"),
    path("<int:canvass_id>/questions/", views.questions, name="questions"),
    path("<int:canvass_id>/results/", views.results, name="results"),
    path("<int:canvass_id>/turfs/", views.turf_list, name="turfs"),
    path("<int:canvass_id>/map.json", views.map_data, name="map_data"),
    path("<int:canvass_id>/revisits/", views.revisits, name="revisits"),
    path("questions/<int:question_id>/", views.question_edit, name="question_edit"),
    path("questions/<int:question_id>/delete/", views.question_delete, name="question_delete"),
    path("turfs/<int:turf_id>/", views.turf_detail, name="turf"),
    path("turfs/<int:turf_id>/assign/", views.turf_assign_view, name="turf_assign"),
    path("turfs/<int:turf_id>/second-pass/", views.turf_second_pass, name="turf_second_pass"),
    path("turfs/<int:turf_id>/release/", views.turf_release_view, name="turf_release"),
    # Volunteers: the phone banks open now, and one contact at a time.
    path("calls/", views.phone_banks, name="calls"),
    path("calls/<int:canvass_id>/call/", views.call, name="call"),
]
