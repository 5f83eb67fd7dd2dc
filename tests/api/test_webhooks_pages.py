"""The webhook pages: owners and managers only, each campaign its own, forms behind
CSRF, the secret shown once (at creation and rotation), addresses refused when they
lead to private or local networks, every change audited, and the log with its replay."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from suffrage.api.models import WebhookDelivery, WebhookSubscription
from suffrage.api.webhooks import services
from suffrage.core.models import AuditLog
from suffrage.core.secrets import decrypt
from tests.api.test_webhooks_receiver import running
from tests.factories import PASSWORD, WebhookDeliveryFactory, WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db

# A literal public address: saved without any DNS look-up, and never connected to here.
PUBLIC_URL = "https://93.184.215.14/hooks/suffrage"


@pytest.fixture
def login(login):
    """Pages in English, whatever the French catalogue says."""

    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


def url(campaign, name, *args):
    return reverse(f"api:{name}", args=[campaign.slug, *args])


def secret_in(page: str) -> str:
    match = re.search(r'data-testid="webhook-secret"', page) and re.search(r'value="(whsec_[^"]+)"', page)
    return match.group(1) if match else ""


def create(client, campaign, **values):
    data = {"name": "Lettre d'info", "url": PUBLIC_URL, "events": ["person.created", "consent.withdrawn"], **values}
    return client.post(url(campaign, "webhook_new"), data)


# --- Who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_owners_and_managers_manage_webhooks(campaign, member, login, role):
    client = login(member(role))
    assert client.get(url(campaign, "webhooks")).status_code == 200
    assert client.get(url(campaign, "webhook_new")).status_code == 200
    assert "Webhooks" in client.get(reverse("core:dashboard", args=[campaign.slug])).content.decode()


@pytest.mark.parametrize("role", ["organiser", "volunteer", "analyst", "dpo"])
def test_other_roles_are_refused(campaign, member, login, role):
    client = login(member(role))
    subscription = WebhookSubscriptionFactory(campaign=campaign)
    assert client.get(url(campaign, "webhooks")).status_code == 403
    assert client.post(url(campaign, "webhook_rotate", subscription.pk)).status_code == 403
    assert create(client, campaign).status_code == 403
    assert WebhookSubscription.objects.count() == 1


def test_another_campaigns_webhooks_are_404_and_never_listed(campaign, other_campaign, manager, outsider, login):
    theirs = WebhookSubscriptionFactory(campaign=other_campaign, name="Leur outil")
    their_delivery = WebhookDeliveryFactory(subscription=theirs)
    client = login(manager)

    assert "Leur outil" not in client.get(url(campaign, "webhooks")).content.decode()
    assert client.get(url(campaign, "webhook_detail", theirs.pk)).status_code == 404
    assert client.post(url(campaign, "webhook_rotate", theirs.pk)).status_code == 404
    assert client.post(url(campaign, "webhook_replay", their_delivery.pk)).status_code == 404
    assert login(outsider).get(url(campaign, "webhooks")).status_code == 404


def test_forms_need_the_csrf_token(campaign, manager):
    client = Client(enforce_csrf_checks=True)
    assert client.login(email=manager.email, password=PASSWORD)
    subscription = WebhookSubscriptionFactory(campaign=campaign)

    assert create(client, campaign).status_code == 403
    assert client.post(url(campaign, "webhook_rotate", subscription.pk)).status_code == 403
    assert WebhookSubscription.objects.count() == 1
    page = client.get(url(campaign, "webhook_detail", subscription.pk)).content.decode()
    assert page.count("csrfmiddlewaretoken") >= 5  # edit, ping, rotate, delete… each form carries it


# --- Creating: the secret once ----------------------------------------------------------------------


def test_a_manager_creates_a_webhook_and_sees_its_secret_once(campaign, manager, login):
    client = login(manager)

    response = create(client, campaign)

    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    subscription = WebhookSubscription.objects.get(campaign=campaign)
    secret = secret_in(response.content.decode())
    assert secret.startswith("whsec_") and decrypt(subscription.secret) == secret
    assert secret not in subscription.secret  # stored encrypted
    assert (subscription.name, subscription.url, subscription.created_by) == ("Lettre d'info", PUBLIC_URL, manager)
    assert subscription.events == ["person.created", "consent.withdrawn"]
    audit = AuditLog.objects.get(action="api.webhook_create", object_id=str(subscription.pk))
    assert audit.actor == manager and secret not in str(audit.changes)
    # Never again.
    for page in ("webhooks", "webhook_detail"):
        args = [subscription.pk] if page == "webhook_detail" else []
        assert secret not in client.get(url(campaign, page, *args)).content.decode()


def test_a_webhook_needs_an_event_and_a_web_address(campaign, manager, login):
    client = login(manager)
    page = create(client, campaign, events=[], url="pas une adresse").content.decode()
    assert "This field is required." in page and "Enter a valid URL." in page
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "address,shown",
    [
        ("https://127.0.0.1/hook", "127.0.0.1"),
        ("https://10.1.2.3/hook", "10.1.2.3"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://[::1]/hook", "::1"),
        ("https://[fe80::1]/hook", "fe80::1"),
        ("https://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1"),
        ("https://localhost/hook", "127.0.0.1"),
        ("https://192.168.1.10:8443/hook", "192.168.1.10"),
        ("https://0.0.0.0/hook", "0.0.0.0"),  # noqa: S104 - an address refused, not one listened on
        ("https://224.0.0.1/hook", "224.0.0.1"),
    ],
)
def test_private_and_local_addresses_are_refused_at_save(campaign, manager, login, address, shown):
    page = create(login(manager), campaign, url=address).content.decode()

    assert "private or local address" in page and shown in page
    assert not WebhookSubscription.objects.exists()


def test_plain_http_is_refused_unless_the_operator_allows_private_addresses(campaign, manager, login, settings):
    client = login(manager)
    assert "must start with https://" in create(client, campaign, url="http://93.184.215.14/hook").content.decode()
    assert "user name and password" in create(client, campaign, url="https://a:b@93.184.215.14/").content.decode()
    assert "not a web address" in create(client, campaign, url="ftp://93.184.215.14/x").content.decode()
    assert not WebhookSubscription.objects.exists()

    settings.WEBHOOK_ALLOW_PRIVATE = True
    create(client, campaign, url="http://127.0.0.1:8080/hook")
    assert WebhookSubscription.objects.get().url == "http://127.0.0.1:8080/hook"


def test_an_edit_is_checked_too_and_audited(campaign, manager, login):
    subscription = WebhookSubscriptionFactory(campaign=campaign, url=PUBLIC_URL, events=["person.created"])
    client = login(manager)
    edit = url(campaign, "webhook_detail", subscription.pk)

    refused = client.post(edit, {"name": "X", "url": "https://localhost/hook", "events": ["visit.recorded"]})
    assert "private or local address" in refused.content.decode()
    subscription.refresh_from_db()
    assert subscription.url == PUBLIC_URL and subscription.events == ["person.created"]

    client.post(edit, {"name": "Porte-à-porte", "url": PUBLIC_URL, "events": ["visit.recorded"]})
    subscription.refresh_from_db()
    assert (subscription.name, subscription.events) == ("Porte-à-porte", ["visit.recorded"])
    audit = AuditLog.objects.get(action="api.webhook_update", object_id=str(subscription.pk))
    assert audit.changes["events"] == [["person.created"], ["visit.recorded"]]


# --- Rotate, ping, enable, replay, delete ------------------------------------------------------------


def test_rotating_shows_a_new_secret_once_and_signs_with_it(campaign, manager, login):
    subscription, first = services.webhook_create(
        campaign=campaign, name="Outil", url=PUBLIC_URL, events=["person.created"], actor=None
    )

    response = login(manager).post(url(campaign, "webhook_rotate", subscription.pk))

    second = secret_in(response.content.decode())
    subscription.refresh_from_db()
    assert response["Cache-Control"] == "no-store"
    assert second and second != first and decrypt(subscription.secret) == second
    assert AuditLog.objects.filter(action="api.webhook_rotate", object_id=str(subscription.pk), actor=manager).exists()


def test_a_test_ping_reaches_the_tool_and_shows_in_the_log(
    campaign, manager, login, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    client = login(manager)
    with running() as receiver:
        response = create(client, campaign, url=receiver.url)
        receiver.secret = secret_in(response.content.decode())
        subscription = WebhookSubscription.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url(campaign, "webhook_ping", subscription.pk))

    assert receiver.verified[0]["event"] == "ping"
    page = client.get(url(campaign, "webhook_detail", subscription.pk)).content.decode()
    assert "<code>ping</code>" in page and "Delivered" in page and "<strong>200</strong>" in page


def test_a_disabled_webhook_is_shown_with_its_reason_and_enabled_again(campaign, manager, login):
    subscription = WebhookSubscriptionFactory(
        campaign=campaign, active=False, consecutive_failures=10, disabled_reason="Disabled after 10 failures."
    )
    waiting = WebhookDeliveryFactory(subscription=subscription, next_attempt_at=timezone.now())
    client = login(manager)
    assert "Disabled after 10 failures." in client.get(url(campaign, "webhooks")).content.decode()
    assert "Enable it again" in client.get(url(campaign, "webhook_detail", subscription.pk)).content.decode()

    response = client.post(url(campaign, "webhook_enable", subscription.pk))

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.active and subscription.consecutive_failures == 0 and subscription.disabled_reason == ""
    assert AuditLog.objects.filter(action="api.webhook_enable", object_id=str(subscription.pk)).exists()
    assert WebhookDelivery.objects.get(pk=waiting.pk).status == "pending"


def test_a_delivery_is_replayed_from_the_log(campaign, manager, login):
    subscription = WebhookSubscriptionFactory(campaign=campaign)
    delivery = WebhookDeliveryFactory(subscription=subscription, status="failed", attempts=8, error="HTTP 500")
    client = login(manager)
    assert "HTTP 500" in client.get(url(campaign, "webhook_detail", subscription.pk)).content.decode()

    response = client.post(url(campaign, "webhook_replay", delivery.pk))

    assert response.status_code == 302
    assert response["Location"] == url(campaign, "webhook_detail", subscription.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at is not None
    assert AuditLog.objects.filter(action="api.webhook_replay", object_id=str(subscription.pk)).exists()


def test_deleting_a_webhook_removes_its_log(campaign, manager, login):
    subscription = WebhookSubscriptionFactory(campaign=campaign)
    WebhookDeliveryFactory(subscription=subscription)

    login(manager).post(url(campaign, "webhook_delete", subscription.pk))

    assert not WebhookSubscription.objects.exists() and not WebhookDelivery.objects.exists()
    assert AuditLog.objects.filter(action="api.webhook_delete", object_id=str(subscription.pk)).exists()


def test_the_list_runs_a_fixed_number_of_queries(campaign, manager, login, django_assert_max_num_queries):
    client = login(manager)
    client.get(url(campaign, "webhooks"))  # warm the session and the menu
    for index in range(5):
        subscription = WebhookSubscriptionFactory(campaign=campaign)
        for _ in range(index):
            WebhookDeliveryFactory(subscription=subscription)

    with django_assert_max_num_queries(10):
        page = client.get(url(campaign, "webhooks")).content.decode()
    assert page.count("/api/webhooks/") >= 6
