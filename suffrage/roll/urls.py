from django.urls import path

from suffrage.roll import views

app_name = "roll"

urlpatterns = [
    path("", views.index, name="index"),
    path("versions/<int:version_id>/", views.version_detail, name="version"),
    path("versions/<int:version_id>/changes/<str:kind>/", views.version_changes, name="changes"),
    path("versions/<int:version_id>/match/", views.match, name="match"),
    path("models/<int:model_id>/", views.model_detail, name="model"),
    path("review/", views.review, name="review"),
    path("review/<int:link_id>/", views.decide, name="decide"),
    path("not-found/", views.not_found, name="not_found"),
]
