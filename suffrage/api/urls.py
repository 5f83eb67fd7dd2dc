from django.urls import path

from suffrage.api import views, webhook_views

app_name = "api"

urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("webhooks/", webhook_views.webhooks, name="webhooks"),
    path("webhooks/new/", webhook_views.webhook_new, name="webhook_new"),
    path("webhooks/<int:subscription_id>/", webhook_views.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:subscription_id>/rotate/", webhook_views.webhook_rotate, name="webhook_rotate"),
    path("webhooks/<int:subscription_id>/ping/", webhook_views.webhook_ping, name="webhook_ping"),
    path("webhooks/<int:subscription_id>/enable/", webhook_views.webhook_enable, name="webhook_enable"),
    path("webhooks/<int:subscription_id>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path("webhooks/deliveries/<int:delivery_id>/replay/", webhook_views.webhook_replay, name="webhook_replay"),
]
