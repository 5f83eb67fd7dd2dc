from django.urls import path

from suffrage.segments import views

app_name = "segments"

urlpatterns = [
    path("", views.segment_list, name="list"),
    path("new/", views.builder, name="new"),
    path("count/", views.count, name="count"),
    path("breakdown/", views.breakdown, name="breakdown"),
    path("<int:segment_id>/", views.builder, name="edit"),
    path("<int:segment_id>/delete/", views.delete, name="delete"),
]
