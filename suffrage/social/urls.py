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
]
