"""The email pages: compose, preview, send, report; senders' DNS records; transports
whose secrets never come back to a page; roles and campaign isolation."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.urls import reverse
from django.utils import translation

from suffrage.core.models import AuditLog
from suffrage.core.secrets import decrypt_json
from suffrage.messaging import services
from suffrage.messaging.models import Delivery, Mailing, TransportConfig
from tests.factories import SegmentFactory
from tests.messaging.conftest import reachable_person

pytestmark = pytest.mark.django_db


def test_a_manager_composes_previews_and_sends_a_mailing(
    campaign, manager, login, sending, mail_server, django_capture_on_commit_callbacks
):
    reachable_person(campaign, "anne@example.org", first_names="Anne")
    segment = SegmentFactory(campaign=campaign)
    client = login(manager)
    response = client.post(
        reverse("messaging:new", args=[campaign.slug]),
        {
            "name": "Réunion publique",
            "sender": sending["sender"].pk,
            "transport": sending["transport"].pk,
            "segment": segment.pk,
            "subject": "Jeudi soir",
            "preheader": "",
            "body": "Bonjour {{ first_name }}, rendez-vous [ici](https://example.org/rdv).",
            "footer": services.default_footer(),
            "subject_b": "",
            "ab_sample_percent": 20,
            "ab_wait_hours": 4,
        },
    )
    mailing = Mailing.objects.get(name="Réunion publique")
    assert response.status_code == 302
    detail = client.get(reverse("messaging:detail", args=[campaign.slug, mailing.pk])).content.decode()
    assert "https://example.org/rdv" in detail  # the link check
    preview = client.get(reverse("messaging:preview", args=[campaign.slug, mailing.pk])).content.decode()
    assert "Bonjour Anne" in preview and 'sandbox=""' in preview
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("messaging:action", args=[campaign.slug, mailing.pk, "send"]))
    assert list(mail_server.arrivals()) == ["anne@example.org"]
    report = client.get(reverse("messaging:detail", args=[campaign.slug, mailing.pk])).content.decode()
    assert "https://example.org/rdv" in report
    progress = client.get(reverse("messaging:progress", args=[campaign.slug, mailing.pk])).content.decode()
    assert 'value="100"' in progress and "hx-trigger" not in progress
    assert AuditLog.objects.filter(action="mailing.send").exists()
    person = Delivery.objects.get().person
    timeline = client.get(reverse("people:detail", args=[campaign.slug, person.pk])).content.decode()
    assert "Réunion publique" in timeline  # the person's timeline shows the message


def test_a_bad_personalisation_is_shown_on_the_field(campaign, manager, login, sending):
    client = login(manager)
    response = client.post(
        reverse("messaging:new", args=[campaign.slug]),
        {
            "name": "X",
            "sender": sending["sender"].pk,
            "transport": sending["transport"].pk,
            "segment": SegmentFactory(campaign=campaign).pk,
            "subject": "Hello",
            "body": "{{ birth_date }}",
            "footer": "Merci",
            "ab_sample_percent": 20,
            "ab_wait_hours": 4,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and "birth_date" in page and "unsubscribe_url" in page
    assert not Mailing.objects.exists()


def test_transport_secrets_are_encrypted_and_never_shown(campaign, manager, login):
    client = login(manager)
    client.post(
        reverse("messaging:transport_new", args=[campaign.slug]) + "?kind=brevo",
        {"name": "Brevo", "rate_per_second": 20, "api_key": "xkeysib-SECRET-123", "webhook_secret": "hook:pass"},
    )
    transport = TransportConfig.objects.get(name="Brevo")
    assert "SECRET" not in transport.secrets and decrypt_json(transport.secrets)["api_key"] == "xkeysib-SECRET-123"
    page = client.get(reverse("messaging:transport_edit", args=[campaign.slug, transport.pk])).content.decode()
    assert "xkeysib-SECRET-123" not in page and str(transport.webhook_key) in page
    client.post(
        reverse("messaging:transport_edit", args=[campaign.slug, transport.pk]),
        {"name": "Brevo", "rate_per_second": 20, "api_key": "", "webhook_secret": ""},
    )
    assert decrypt_json(TransportConfig.objects.get().secrets)["api_key"] == "xkeysib-SECRET-123"  # blank keeps it
    audit = AuditLog.objects.filter(action="transport.update").get()
    assert "xkeysib" not in str(audit.changes)


def test_a_sender_shows_the_dns_records_to_publish(campaign, manager, login):
    client = login(manager)
    client.post(
        reverse("messaging:senders", args=[campaign.slug]),
        {"name": "Camille", "email": "camille@brest2027.example", "reply_to": "", "dkim_algorithm": "ed25519-sha256"},
    )
    page = client.get(reverse("messaging:senders", args=[campaign.slug])).content.decode()
    assert "_domainkey.brest2027.example" in page and "k=ed25519" in page
    assert "_dmarc.brest2027.example" in page and "v=spf1" in page


def test_roles_organisers_compose_but_do_not_send_volunteers_see_nothing(campaign, member, login, sending, mail_server):
    reachable_person(campaign, "a@example.org")
    mailing = sending["mailing"]()
    organiser = login(member("organiser"))
    assert organiser.get(reverse("messaging:edit", args=[campaign.slug, mailing.pk])).status_code == 200
    organiser.post(reverse("messaging:action", args=[campaign.slug, mailing.pk, "send"]))
    assert Mailing.objects.get().status == Mailing.Status.DRAFT and not Delivery.objects.exists()
    assert organiser.get(reverse("messaging:transports", args=[campaign.slug])).status_code == 403
    volunteer = login(member("volunteer"))
    assert volunteer.get(reverse("messaging:list", args=[campaign.slug])).status_code == 403


def test_another_campaigns_mailing_is_a_404(campaign, other_campaign, outsider, login, sending):
    mailing = sending["mailing"]()
    from suffrage.core.models import Membership

    Membership.objects.filter(user=outsider).update(role="owner")
    client = login(outsider)
    for name in ("detail", "edit", "preview", "progress"):
        assert client.get(reverse(f"messaging:{name}", args=[other_campaign.slug, mailing.pk])).status_code == 404
    response = client.post(reverse("messaging:action", args=[other_campaign.slug, mailing.pk, "cancel"]))
    assert response.status_code == 404


class Site(BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.send_response(200 if self.path == "/ok" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_link_check_reports_broken_links(campaign, manager, login, sending, settings):
    settings.LINK_CHECK_PRIVATE = True
    server = HTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    mailing = sending["mailing"](body=f"[bon]({base}/ok) et [cassé]({base}/gone)")
    response = login(manager).post(
        reverse("messaging:action", args=[campaign.slug, mailing.pk, "check_links"]), follow=True
    )
    server.shutdown()
    warnings = re.findall(r'class="message message-warning"[^>]*>([^<]*)<', response.content.decode())
    assert len(warnings) == 1 and f"{base}/gone" in warnings[0] and "404" in warnings[0]


def test_the_link_check_does_not_probe_private_addresses(settings):
    settings.LINK_CHECK_PRIVATE = False
    with translation.override("en"):
        results = dict(services.links_check(["http://127.0.0.1:8000/admin", "ftp://example.org/x"]))
    assert results == {
        "http://127.0.0.1:8000/admin": "private address, not checked",
        "ftp://example.org/x": "not a web address",
    }


def test_a_transport_that_cannot_work_is_refused_with_the_reason(campaign, manager, login):
    response = login(manager).post(
        reverse("messaging:transport_new", args=[campaign.slug]) + "?kind=smtp",
        {"name": "Relais", "rate_per_second": 5, "host": "smtp.example.org", "security": "none"},
    )
    assert (response.status_code == 200 and "field-error" in response.content.decode()) or "message-error" in (
        response.content.decode()
    )
    assert not TransportConfig.objects.exists()
