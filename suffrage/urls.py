"""URL map. Campaign pages live under /c/<campaign_slug>/ in each app's urls."""

from django.urls import include, path

from suffrage.api.rest.api import api as rest_api
from suffrage.engagement import demo_site
from suffrage.messaging import public as mail_public
from suffrage.privacy import views as privacy_views
from suffrage.social import hooks as social_hooks
from suffrage.texting import inbound as sms_inbound

urlpatterns = [
    # Reached by recipients and providers, outside any campaign's pages.
    path("m/<str:token>/c/<int:position>/", mail_public.click, name="mail_click"),
    path("m/<str:token>/o.gif", mail_public.opened, name="mail_open"),
    path("u/<str:token>/", mail_public.unsubscribe, name="mail_unsubscribe"),
    path("hooks/email/<uuid:key>/", mail_public.provider_webhook, name="mail_webhook"),
    path("hooks/sms/<uuid:key>/", sms_inbound.sms_webhook, name="sms_webhook"),
    path("hooks/social/<uuid:key>/", social_hooks.lead_webhook, name="social_webhook"),
    path("p/<slug:campaign_slug>/privacy/", privacy_views.public_request, name="privacy_public"),
    path("p/<slug:campaign_slug>/privacy/code/<str:reference>/", privacy_views.public_code, name="privacy_public_code"),
    path("p/<slug:campaign_slug>/privacy/<str:secret>/", privacy_views.public_verify, name="privacy_public_verify"),
    path(
        "p/<slug:campaign_slug>/privacy/<str:secret>/<int:person_id>/data.<str:fmt>",
        privacy_views.public_data,
        name="privacy_public_data",
    ),
    path("e/<slug:campaign_slug>/", include("suffrage.engagement.public_urls")),
    path("demo/candidate-site/<slug:campaign_slug>/", demo_site.candidate_site, name="demo_candidate_site"),
    path("api/v1/", rest_api.urls),
    path("api/osdi/v1/", include("suffrage.api.osdi.urls")),
    path("accounts/", include("allauth.urls")),
    path("c/<slug:campaign_slug>/people/", include("suffrage.people.urls")),
    path("c/<slug:campaign_slug>/imports/", include("suffrage.imports.urls")),
    path("c/<slug:campaign_slug>/territory/", include("suffrage.territory.urls")),
    path("c/<slug:campaign_slug>/roll/", include("suffrage.roll.urls")),
    path("c/<slug:campaign_slug>/segments/", include("suffrage.segments.urls")),
    path("c/<slug:campaign_slug>/mail/", include("suffrage.messaging.urls")),
    path("c/<slug:campaign_slug>/privacy/", include("suffrage.privacy.urls")),
    path("c/<slug:campaign_slug>/engagement/", include("suffrage.engagement.urls")),
    path("c/<slug:campaign_slug>/canvassing/", include("suffrage.canvassing.urls")),
    path("c/<slug:campaign_slug>/app/", include("suffrage.canvassing.mobile_urls")),
    path("c/<slug:campaign_slug>/sms/", include("suffrage.texting.urls")),
    path("c/<slug:campaign_slug>/social/", include("suffrage.social.urls")),
    path("c/<slug:campaign_slug>/api/", include("suffrage.api.urls")),
    path("", include("suffrage.core.urls")),
]
