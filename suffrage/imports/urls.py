from django.urls import path

from suffrage.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.batch_list, name="list"),
    path("upload/", views.batch_upload, name="upload"),
    path("<int:batch_id>/", views.batch_detail, name="detail"),
    path("<int:batch_id>/run/", views.batch_run, name="run"),
    path("<int:batch_id>/report.csv", views.batch_report, name="report"),
]
