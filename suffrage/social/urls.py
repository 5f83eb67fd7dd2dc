from django.urls import path

from suffrage.social import views

app_name = "social"

urlpatterns = [
    path("", views.home, name="home"),
    path("import/", views.export_upload, name="export_upload"),
    path("accounts/new/", views.account_edit, name="account_new"),
    path("accounts/<int:account_id>/", views.account_edit, name="account_edit"),
    path("accounts/<int:account_id>/followers/", views.followers_fetch, name="followers_fetch"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("suggestions/<int:suggestion_id>/", views.suggestion_decide, name="suggestion_decide"),
    path("posts/", views.post_list, name="post_list"),
    path("posts/new/", views.post_edit, name="post_new"),
    path("posts/<int:post_id>/", views.post_detail, name="post_detail"),
    path("posts/<int:post_id>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:post_id>/image/", views.post_image, name="post_image"),
    path("posts/<int:post_id>/publish/", views.post_publish, name="post_publish"),
    path("posts/<int:post_id>/schedule/", views.post_schedule, name="post_schedule"),
    path("posts/<int:post_id>/cancel/", views.post_cancel, name="post_cancel"),
    path("posts/<int:post_id>/delete/", views.post_delete, name="post_delete"),
    path("calendar/", views.calendar, name="calendar"),
    path("reports/", views.reports, name="reports"),
]
