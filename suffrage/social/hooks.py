"""/hooks/social/<key>/: Meta's Lead Ads webhook for one Facebook Page account.

GET: the subscription check (hub.challenge echoed when our verify token matches).
POST: a notification, accepted only with a valid X-Hub-Signature-256 (HMAC of the
raw body with the app secret), answered at once; a task reads its leads from the
Graph API (Meta expects a quick answer and retries slow ones)."""

from __future__ import annotations

import json

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from suffrage.core.ratelimit import too_many
from suffrage.core.secrets import decrypt_json
from suffrage.social.clients.facebook import leadgen_ids, webhook_signature_ok, webhook_verify_challenge
from suffrage.social.models import Network, SocialAccount
from suffrage.social.tasks import leads_fetch_task


@csrf_exempt
def lead_webhook(request: HttpRequest, key: str) -> HttpResponse:
    if too_many(request, "social-webhook", limit=600):
        return HttpResponse(status=429)
    account = SocialAccount.objects.filter(webhook_key=key, network=Network.FACEBOOK).select_related("campaign").first()
    if account is None:
        raise Http404
    secrets = decrypt_json(account.secrets)
    if request.method == "GET":
        challenge = webhook_verify_challenge(request.GET.dict(), secrets.get("verify_token", ""))
        return HttpResponse(challenge, content_type="text/plain") if challenge else HttpResponse(status=403)
    if request.method != "POST":
        return HttpResponse(status=405)
    body = request.body
    if not webhook_signature_ok(secrets.get("app_secret", ""), body, request.headers.get("X-Hub-Signature-256", "")):
        return HttpResponse(status=403)
    try:
        payload = json.loads(body)
    except ValueError:
        return HttpResponse(status=400)
    ids = leadgen_ids(payload)
    if ids:
        transaction.on_commit(lambda: leads_fetch_task.enqueue(account.pk, ids))
    return HttpResponse("", content_type="text/plain")
