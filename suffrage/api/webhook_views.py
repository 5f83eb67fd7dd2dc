"""The campaign's webhook pages (owners and managers): the list, a new webhook (its
secret shown once), a webhook's page (edit, rotate the secret, ping, re-enable, delete,
and its delivery log with replay)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from suffrage.api.models import WebhookDelivery, WebhookSubscription
from suffrage.api.webhooks import services
from suffrage.api.webhooks.events import EVENTS
from suffrage.api.webhooks.forms import WebhookForm
from suffrage.api.webhooks.sending import MAX_ATTEMPTS, disable_after, payload_preview
from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view
from suffrage.core.pagination import CappedPaginator

LOG_PAGE_SIZE = 50


def _subscriptions(request: CampaignRequest) -> QuerySet[WebhookSubscription]:
    latest = WebhookDelivery.objects.filter(subscription_id=OuterRef("pk")).order_by("-created_at", "-pk")
    return WebhookSubscription.objects.filter(campaign=request.campaign).annotate(
        waiting=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)),
        last_at=Subquery(latest.values("created_at")[:1]),
        last_status=Subquery(latest.values("status")[:1]),
    )


def _secret_shown(response: HttpResponse) -> HttpResponse:
    # The secret is in this page only: never cached by the browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response


def _saved(form: WebhookForm, save: Any) -> Any:
    """Run the service; its refusals (the address, the events) go onto the form."""
    try:
        return save()
    except ValidationError as error:
        form.add_error(None, error)
        return None


@campaign_view("api.manage_webhooks", methods=("GET",))
def webhooks(request: CampaignRequest) -> HttpResponse:
    labels = dict(WebhookDelivery.Status.choices)
    rows = [(item, labels.get(getattr(item, "last_status", None) or "", "")) for item in _subscriptions(request)]
    context = {"rows": rows, "disable_after": disable_after()}
    return render(request, "api/webhooks.html", context)


@campaign_view("api.manage_webhooks")
def webhook_new(request: CampaignRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        created = _saved(
            form,
            lambda: services.webhook_create(
                campaign=request.campaign,
                name=values["name"],
                url=values["url"],
                events=values["events"],
                actor=request.user,
            ),
        )
        if created is not None:
            subscription, secret = created
            messages.success(request, _("Webhook “%(name)s” created.") % {"name": subscription.name})
            return _secret_shown(_detail(request, subscription, secret=secret))
    return render(request, "api/webhook_new.html", {"form": form})


def _detail(
    request: CampaignRequest, subscription: WebhookSubscription, *, form: WebhookForm | None = None, secret: str = ""
) -> HttpResponse:
    form = form or WebhookForm(
        initial={"name": subscription.name, "url": subscription.url, "events": subscription.events}
    )
    deliveries = WebhookDelivery.objects.filter(campaign=request.campaign, subscription=subscription)
    page = CappedPaginator(deliveries.order_by("-created_at", "-pk"), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "subscription": subscription,
        "form": form,
        "secret": secret,
        "page": page,
        "rows": [(delivery, payload_preview(delivery)) for delivery in page],
        "event_labels": EVENTS,
        "max_attempts": MAX_ATTEMPTS,
    }
    return render(request, "api/webhook_detail.html", context)


@campaign_view("api.manage_webhooks")
def webhook_detail(request: CampaignRequest, subscription_id: int) -> HttpResponseBase:
    subscription = campaign_object_or_404(WebhookSubscription, request.campaign, pk=subscription_id)
    if request.method != "POST":
        return _detail(request, subscription)
    form = WebhookForm(request.POST)
    if form.is_valid():
        values = form.cleaned_data
        saved = _saved(
            form,
            lambda: services.webhook_update(
                subscription=subscription,
                name=values["name"],
                url=values["url"],
                events=values["events"],
                actor=request.user,
            ),
        )
        if saved is not None:
            messages.success(request, _("Webhook saved."))
            return redirect("api:webhook_detail", request.campaign.slug, subscription.pk)
    subscription.refresh_from_db()
    return _detail(request, subscription, form=form)


@campaign_view("api.manage_webhooks", methods=("POST",))
def webhook_rotate(request: CampaignRequest, subscription_id: int) -> HttpResponse:
    subscription = campaign_object_or_404(WebhookSubscription, request.campaign, pk=subscription_id)
    secret = services.webhook_secret_rotate(subscription=subscription, actor=request.user)
    messages.success(request, _("New secret made: the next deliveries are signed with it."))
    return _secret_shown(_detail(request, subscription, secret=secret))


@campaign_view("api.manage_webhooks", methods=("POST",))
def webhook_ping(request: CampaignRequest, subscription_id: int) -> HttpResponseBase:
    subscription = campaign_object_or_404(WebhookSubscription, request.campaign, pk=subscription_id)
    if not subscription.active:
        messages.error(request, _("This webhook is disabled: enable it first."))
    else:
        services.webhook_ping(subscription=subscription, actor=request.user)
        messages.success(request, _("Ping queued: its answer appears in the log below in a few seconds."))
    return redirect("api:webhook_detail", request.campaign.slug, subscription.pk)


@campaign_view("api.manage_webhooks", methods=("POST",))
def webhook_enable(request: CampaignRequest, subscription_id: int) -> HttpResponseBase:
    subscription = campaign_object_or_404(WebhookSubscription, request.campaign, pk=subscription_id)
    waiting = services.webhook_enable(subscription=subscription, actor=request.user)
    messages.success(
        request, _("Webhook enabled again; %(count)s waiting deliveries are sent now.") % {"count": waiting}
    )
    return redirect("api:webhook_detail", request.campaign.slug, subscription.pk)


@campaign_view("api.manage_webhooks", methods=("POST",))
def webhook_delete(request: CampaignRequest, subscription_id: int) -> HttpResponseBase:
    subscription = campaign_object_or_404(WebhookSubscription, request.campaign, pk=subscription_id)
    services.webhook_delete(subscription=subscription, actor=request.user)
    messages.success(request, _("Webhook “%(name)s” deleted.") % {"name": subscription.name})
    return redirect("api:webhooks", request.campaign.slug)


@campaign_view("api.manage_webhooks", methods=("POST",))
def webhook_replay(request: CampaignRequest, delivery_id: int) -> HttpResponseBase:
    delivery = campaign_object_or_404(
        WebhookDelivery.objects.select_related("subscription"), request.campaign, pk=delivery_id
    )
    if services.webhook_replay(delivery=delivery, actor=request.user):
        messages.success(request, _("Sent again now: the new answer appears in the log."))
    elif not delivery.subscription.active:
        messages.error(request, _("This webhook is disabled: enable it first."))
    else:
        messages.error(request, _("This delivery is being sent right now."))
    return redirect("api:webhook_detail", request.campaign.slug, delivery.subscription_id)
