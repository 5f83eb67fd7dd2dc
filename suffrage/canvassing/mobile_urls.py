"""The volunteers' app, under /c/<campaign_slug>/app/ (the service worker's scope)."""

from django.urls import path

from suffrage.canvassing import mobile

app_name = "canvassing_app"

urlpatterns = [
    path("", mobile.home, name="home"),
    path("turfs/<int:turf_id>/", mobile.turf, name="turf"),
    path("turfs/<int:turf_id>/data.json", mobile.turf_data, name="turf_data"),
    path("sync/", mobile.sync, name="sync"),
    path("manifest.webmanifest", mobile.manifest, name="manifest"),
    path("sw.js", mobile.service_worker, name="service_worker"),
]
