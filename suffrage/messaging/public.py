"""What recipients and providers reach without an account: tracked links, the open
pixel, the unsubscribe page (and RFC 8058 one-click POST), providers' webhooks.
Each is rate-limited and trusts only signed tokens."""

from __future__ import annotations

import base64

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from suffrage.core.ratelimit import client_ip, too_many
from suffrage.core.secrets import decrypt_json
from suffrage.messaging import feedback
from suffrage.messaging.models import Delivery, TrackingEvent, TransportConfig, mail_settings
from suffrage.messaging.tracking import delivery_id_from
from suffrage.messaging.transports import transport_kind

# A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _delivery(token: str) -> Delivery:
    pk = delivery_id_from(token)
    delivery = Delivery.objects.select_related("mailing__campaign", "person").filter(pk=pk).first() if pk else None
    if delivery is None:
        raise Http404
    return delivery


def _limited(request: HttpRequest, scope: str) -> HttpResponse | None:
    if too_many(request, scope, limit=120):
        return HttpResponse(_("Too many requests, try again in a minute."), status=429)
    return None


def click(request: HttpRequest, token: str, position: int) -> HttpResponseBase:
    if limited := _limited(request, "mail-click"):
        return limited
    delivery = _delivery(token)
    link = feedback.click_record(delivery, position)
    if link is None:
        raise Http404
    return HttpResponseRedirect(link.url)


def opened(request: HttpRequest, token: str) -> HttpResponse:
    if not _limited(request, "mail-open"):
        pk = delivery_id_from(token)
        delivery = Delivery.objects.select_related("mailing__campaign").filter(pk=pk).first() if pk else None
        if delivery is not None and mail_settings(delivery.mailing.campaign).open_tracking:
            feedback.event_record(delivery, TrackingEvent.Kind.OPENED)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # RFC 8058: the mailbox provider POSTs without cookies; the token is the proof
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if limited := _limited(request, "mail-unsubscribe"):
        return limited
    delivery = _delivery(token)
    done = False
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        everything = request.POST.get("scope") == "everything"
        feedback.unsubscribe(delivery, everything=everything and not one_click, ip=client_ip(request))
        if one_click:
            return HttpResponse(_("Unsubscribed."), content_type="text/plain; charset=utf-8")
        done = True
    delivery.person.refresh_from_db()
    options = mail_settings(delivery.mailing.campaign)
    return render(
        request,
        "messaging/unsubscribe.html",
        {
            "delivery": delivery,
            "campaign": delivery.mailing.campaign,
            "identity": options.identity or delivery.mailing.campaign.name,
            "privacy_contact": options.privacy_contact,
            "email_withdrawn": delivery.person.consent_email is False,
            "done": done,
        },
    )


@csrf_exempt  # providers cannot carry our CSRF token; anymail checks their signature or secret
def provider_webhook(request: HttpRequest, key: str) -> HttpResponseBase:
    if too_many(request, "mail-webhook", limit=6000):
        return HttpResponse(status=429)
    transport = TransportConfig.objects.filter(webhook_key=key).first()
    if transport is None:
        raise Http404
    from suffrage.messaging.transports.feedback import webhook_view_for

    kind = transport_kind(transport.kind)
    if kind.tracking_view is None:
        raise Http404
    view = webhook_view_for(kind, decrypt_json(transport.secrets))
    response: HttpResponseBase = view(request)
    return response
