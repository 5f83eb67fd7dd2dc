from django.urls import path

from suffrage.territory import views

app_name = "territory"

urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("map/data.geojson", views.map_data, name="map_data"),
    path("stations/", views.station_list, name="stations"),
    path("stations/<str:station_code>/", views.station_detail, name="station"),
    path("boundaries/", views.boundaries, name="boundaries"),
    path("blocs/", views.blocs, name="blocs"),
    path("blocs/<int:bloc_id>/delete/", views.bloc_delete, name="bloc_delete"),
    path("geocode/", views.geocode, name="geocode"),
    path("approximate/", views.approximate, name="approximate"),
    path("priorities/", views.ranking, name="ranking"),
    path("priorities/<int:ranking_id>/", views.ranking_detail, name="ranking_detail"),
]
