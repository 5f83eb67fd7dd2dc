"""URL map. Campaign pages live under /c/<campaign_slug>/ in each app's urls."""

from django.urls import include, path

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("", include("suffrage.core.urls")),
]
