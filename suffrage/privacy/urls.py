from django.urls import path

from suffrage.privacy import views, views_register, views_retention

app_name = "privacy"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:request_id>/", views.request_detail, name="request"),
    path("people/<int:person_id>/data.<str:fmt>", views.person_data, name="person_data"),
    path("people/<int:person_id>/erase/", views.person_erase, name="person_erase"),
    path("people/<int:person_id>/stop/", views.person_stop, name="person_stop"),
    path("retention/", views_retention.retention_page, name="retention"),
    path("register/", views_register.register_page, name="register"),
    path("register/download.<str:fmt>", views_register.register_download, name="register_download"),
]
