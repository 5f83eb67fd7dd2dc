"""URL map. Campaign pages live under /c/<campaign_slug>/ in each app's urls."""

from django.urls import include, path

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("c/<slug:campaign_slug>/people/", include("suffrage.people.urls")),
    path("c/<slug:campaign_slug>/imports/", include("suffrage.imports.urls")),
    path("c/<slug:campaign_slug>/territory/", include("suffrage.territory.urls")),
    path("c/<slug:campaign_slug>/roll/", include("suffrage.roll.urls")),
    path("c/<slug:campaign_slug>/segments/", include("suffrage.segments.urls")),
    path("", include("suffrage.core.urls")),
]
