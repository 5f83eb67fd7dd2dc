"""Sending webhooks to a receiving server on loopback (WEBHOOK_ALLOW_PRIVATE on, as an
operator whose tools share the network would set it): signed deliveries that the
documented check accepts, retries with backoff, timeouts, automatic disabling,
replay, one POST however many senders, TLS to the checked address, and the
request-forgery check made again at send time."""

from __future__ import annotations

import datetime
import http.server
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.db import connection
from django.utils import timezone

from suffrage.api.models import WebhookDelivery, WebhookSubscription
from suffrage.api.webhooks import sending, services
from suffrage.api.webhooks.addresses import Target
from suffrage.api.webhooks.sending import BACKOFF, MAX_ATTEMPTS, webhook_deliveries_send_due, webhook_delivery_send
from suffrage.core.models import AuditLog
from suffrage.people.services import person_create
from tests.api.test_webhooks_receiver import running
from tests.factories import WebhookDeliveryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_allowed(settings, campaign):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    # The delivery log speaks the campaign's language: English, for the errors asserted.
    campaign.languages = ["en"]
    campaign.save(update_fields=["languages"])


@pytest.fixture
def receiver():
    with running() as receiver:
        yield receiver


def subscribe(campaign, receiver, events=("person.created",), **fields):
    subscription, secret = services.webhook_create(
        campaign=campaign, name="Outil", url=fields.pop("url", receiver.url), events=list(events), actor=None
    )
    receiver.secret = secret
    return subscription


def new_person(campaign, django_capture_on_commit_callbacks, **fields):
    with django_capture_on_commit_callbacks(execute=True):
        return person_create(
            campaign=campaign,
            actor=None,
            source="manual",
            legal_basis="legitimate_interest",
            first_names="Anne",
            usage_name="Le Gall",
            email="anne@example.org",
            **fields,
        )


def pending(subscription, **fields):
    """A delivery waiting for its next attempt, due now."""
    fields = {"status": WebhookDelivery.Status.PENDING, "next_attempt_at": timezone.now(), **fields}
    return WebhookDeliveryFactory(subscription=subscription, payload={"id": "x", "event": "person.created"}, **fields)


def make_due(delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


# --- Delivered, signed ------------------------------------------------------------------------


def test_an_event_arrives_signed_and_the_documented_check_accepts_it(
    campaign, receiver, django_capture_on_commit_callbacks
):
    subscription = subscribe(campaign, receiver)
    person = new_person(campaign, django_capture_on_commit_callbacks)

    [item] = receiver.received
    assert item.refused == ""
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert item.event["id"] == str(delivery.event_id) == item.headers["Suffrage-Delivery"]
    assert item.event["event"] == "person.created" == item.headers["Suffrage-Event"]
    assert item.event["data"]["person"]["id"] == person.pk
    timestamp = item.headers["Suffrage-Timestamp"]
    assert item.headers["Suffrage-Signature"].startswith(f"t={timestamp},v1=")
    assert item.headers["Content-Type"] == "application/json"
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert delivery.response_excerpt == "ok" and delivery.delivered_at is not None and delivery.error == ""


def test_the_receiver_refuses_a_delivery_signed_with_an_old_secret(
    campaign, receiver, django_capture_on_commit_callbacks
):
    subscription = subscribe(campaign, receiver)
    old_secret = receiver.secret
    services.webhook_secret_rotate(subscription=subscription, actor=None)
    receiver.secret = old_secret  # the tool was not told
    new_person(campaign, django_capture_on_commit_callbacks)

    assert receiver.received[0].refused == "wrong signature"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_status, delivery.error) == ("pending", 400, "HTTP 400")


# --- Retries ----------------------------------------------------------------------------------


def test_a_500_is_retried_after_a_minute_and_then_delivered(campaign, receiver, django_capture_on_commit_callbacks):
    receiver.answers = [500]
    subscription = subscribe(campaign, receiver)
    new_person(campaign, django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.error) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    assert len(delivery.response_excerpt) == 500  # the first 500 characters of the answer
    assert delivery.next_attempt_at == delivery.last_attempt_at + datetime.timedelta(minutes=1)
    assert webhook_deliveries_send_due() == 0  # not due yet
    assert len(receiver.received) == 1

    make_due(delivery)
    assert webhook_deliveries_send_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 2, 200)
    first, second = receiver.received
    assert first.event["id"] == second.event["id"]  # the same event, signed again
    assert second.refused == ""


def test_the_backoff_grows_then_the_delivery_fails_after_eight_attempts(campaign, receiver):
    receiver.answers = [500] * MAX_ATTEMPTS
    delivery = pending(subscribe(campaign, receiver))
    waits = []
    for _attempt in range(MAX_ATTEMPTS - 1):
        assert webhook_delivery_send(delivery.pk) == "retry"
        delivery.refresh_from_db()
        waits.append(delivery.next_attempt_at - delivery.last_attempt_at)
        make_due(delivery)
    assert webhook_delivery_send(delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert waits == list(BACKOFF)
    assert [minutes.total_seconds() / 60 for minutes in waits] == [1, 5, 30, 120, 360, 720, 1440]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 8, None)
    assert len(receiver.received) == MAX_ATTEMPTS


def test_a_server_too_slow_to_answer_times_out_and_is_retried(campaign, receiver, monkeypatch):
    monkeypatch.setattr(sending, "TOTAL_TIMEOUT", 0.5)
    receiver.hold = threading.Event()  # the server never answers while the sender waits
    delivery = pending(subscribe(campaign, receiver))

    assert webhook_delivery_send(delivery.pk) == "retry"

    delivery.refresh_from_db()
    assert delivery.error == "timed out" and delivery.response_status is None
    assert delivery.status == "pending" and delivery.claimed_until is None


def test_a_server_answering_a_byte_at_a_time_is_cut_at_the_total_time(campaign, receiver, monkeypatch):
    monkeypatch.setattr(sending, "TOTAL_TIMEOUT", 0.5)
    done = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def drip():
        connection, _address = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            for _ in range(200):  # at most 20 s, far past the sender's limit
                if done.wait(0.1):
                    break
                try:
                    connection.sendall(b"X")  # each byte resets a read timeout, never the total one
                except OSError:
                    break

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    delivery = pending(subscribe(campaign, receiver, url=f"http://127.0.0.1:{port}/hooks"))

    assert webhook_delivery_send(delivery.pk) == "retry"

    done.set()
    thread.join(5)
    listener.close()
    delivery.refresh_from_db()
    assert delivery.error == "timed out" and delivery.response_status is None


def test_a_refused_connection_is_retried(campaign, receiver):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    delivery = pending(subscribe(campaign, receiver, url=f"http://127.0.0.1:{closed_port}/hooks"))

    assert webhook_delivery_send(delivery.pk) == "retry"

    delivery.refresh_from_db()
    assert delivery.error == "Connection refused" and delivery.attempts == 1


def test_a_redirect_is_not_followed(campaign, receiver):
    receiver.answers = [302]
    receiver.location = "http://169.254.169.254/latest/meta-data/"
    delivery = pending(subscribe(campaign, receiver))

    assert webhook_delivery_send(delivery.pk) == "retry"

    delivery.refresh_from_db()
    assert delivery.response_status == 302 and "redirects are not followed" in delivery.error
    assert len(receiver.received) == 1


# --- Disabled after repeated failures ------------------------------------------------------------


def test_the_webhook_is_disabled_after_n_deliveries_in_a_row_failed(campaign, receiver, settings):
    settings.WEBHOOK_DISABLE_AFTER = 2
    receiver.answers = [500] * 10
    subscription = subscribe(campaign, receiver)
    last_tries = [pending(subscription, attempts=MAX_ATTEMPTS - 1) for _ in range(2)]
    waiting = pending(subscription, next_attempt_at=timezone.now() + datetime.timedelta(hours=1))

    assert webhook_deliveries_send_due() == 0

    subscription.refresh_from_db()
    assert [WebhookDelivery.objects.get(pk=d.pk).status for d in last_tries] == ["failed", "failed"]
    assert not subscription.active and subscription.consecutive_failures == 2
    assert "after 2 deliveries in a row failed (last: HTTP 500)" in subscription.disabled_reason
    assert AuditLog.objects.filter(action="api.webhook_disable", object_id=str(subscription.pk)).count() == 1
    # Nothing more is sent; what waits, waits.
    make_due(waiting)
    assert webhook_deliveries_send_due() == 0 and webhook_delivery_send(waiting.pk) == "skipped"
    assert len(receiver.received) == 2
    assert WebhookDelivery.objects.get(pk=waiting.pk).status == "pending"

    # Enabled again: what waited goes at once.
    services.webhook_enable(subscription=subscription, actor=None)
    receiver.answers = []
    assert webhook_deliveries_send_due() == 1
    subscription.refresh_from_db()
    assert subscription.active and subscription.consecutive_failures == 0 and subscription.disabled_reason == ""


def test_a_delivery_that_arrives_resets_the_count_of_failures(campaign, receiver):
    subscription = subscribe(campaign, receiver)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=7)

    assert webhook_delivery_send(pending(subscription).pk) == "delivered"

    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0 and subscription.active


def test_a_failing_endpoint_holds_the_tick_for_three_attempts_at_most(campaign, receiver):
    receiver.answers = [500] * 10
    subscription = subscribe(campaign, receiver)
    for _ in range(6):
        pending(subscription)

    webhook_deliveries_send_due()

    assert len(receiver.received) == sending.FAILURES_PER_TICK
    assert WebhookDelivery.objects.filter(attempts=0).count() == 3  # left for the next tick


# --- Replay and ping --------------------------------------------------------------------------


def test_a_replay_sends_the_same_event_again_now(campaign, receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(campaign, receiver)
    new_person(campaign, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(subscription=subscription)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_replay(delivery=delivery, actor=None)

    first, again = receiver.received
    assert first.event == again.event and again.refused == ""
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert AuditLog.objects.filter(action="api.webhook_replay", object_id=str(subscription.pk)).exists()


def test_a_failed_delivery_replayed_gets_one_more_attempt(campaign, receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(campaign, receiver)
    delivery = pending(subscription, status=WebhookDelivery.Status.FAILED, attempts=MAX_ATTEMPTS, next_attempt_at=None)
    receiver.answers = [503]

    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_replay(delivery=delivery, actor=None)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", MAX_ATTEMPTS + 1, 503)


def test_a_delivery_of_a_disabled_webhook_is_not_replayed(campaign, receiver):
    subscription = subscribe(campaign, receiver)
    delivery = pending(subscription, status=WebhookDelivery.Status.FAILED)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(active=False)
    delivery.subscription.refresh_from_db()

    assert not services.webhook_replay(delivery=delivery, actor=None)
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "failed"


def test_a_ping_is_tried_once_and_does_not_count_as_a_failure(campaign, receiver, django_capture_on_commit_callbacks):
    receiver.answers = [500]
    subscription = subscribe(campaign, receiver)

    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_ping(subscription=subscription, actor=None)

    ping = WebhookDelivery.objects.get(event="ping")
    assert (ping.status, ping.attempts, ping.response_status) == ("failed", 1, 500)
    assert receiver.verified[0]["data"] == {"webhook": {"id": subscription.pk, "name": "Outil"}}
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0


# --- One POST, however many senders ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_post_a_delivery_once(campaign, receiver):
    delivery = pending(subscribe(campaign, receiver))
    receiver.hold = threading.Event()
    outcomes = {}

    def first_sender():
        try:
            outcomes["first"] = webhook_delivery_send(delivery.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=first_sender)
    thread.start()
    assert receiver.arrived.wait(10)  # the first sender's POST is in flight, held by the server
    outcomes["second"] = webhook_delivery_send(delivery.pk)
    outcomes["tick"] = webhook_deliveries_send_due()
    receiver.hold.set()
    thread.join(20)

    assert outcomes == {"first": "delivered", "second": "skipped", "tick": 0}
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_a_claim_left_by_a_dead_worker_is_taken_again_after_its_lease(campaign, receiver):
    delivery = pending(subscribe(campaign, receiver), claimed_until=timezone.now() + datetime.timedelta(minutes=1))
    assert webhook_delivery_send(delivery.pk) == "skipped"

    WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() - datetime.timedelta(seconds=1))
    assert webhook_delivery_send(delivery.pk) == "delivered"
    assert len(receiver.received) == 1


# --- Request forgery, at send time, and the connection to the checked address -------------------


def test_an_address_that_became_private_is_not_posted_to(campaign, receiver, settings):
    # Saved while private addresses were allowed (as if the name had resolved to a public one then).
    delivery = pending(subscribe(campaign, receiver, url=f"https://localhost:{receiver.port}/hooks"))
    settings.WEBHOOK_ALLOW_PRIVATE = False

    assert webhook_delivery_send(delivery.pk) == "retry"

    delivery.refresh_from_db()
    assert delivery.error.startswith("Not sent: ") and "private or local address (127.0.0.1)" in delivery.error
    assert receiver.received == []


def test_the_request_goes_to_the_checked_address_with_the_name_in_the_host_header(receiver):
    # "hooks.example" resolves to nothing: only the address checked is used, never the name again.
    target = Target("http", "hooks.example", receiver.port, "/hooks?x=1", ("127.0.0.1",))

    answer = sending.post(target, b"{}", {"Content-Type": "application/json"})

    assert answer.status == 400  # reached, and refused by the receiver: it was not signed
    assert receiver.received[0].headers["Host"] == f"hooks.example:{receiver.port}"
    assert receiver.received[0].refused == "no signature"


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """An HTTPS server on loopback with a certificate for "localhost", trusted through
    SSL_CERT_FILE; it records the name the client asked for (SNI) and the Host header."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    seen = {"sni": [], "hosts": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen["hosts"].append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, server_name, ctx: seen["sni"].append(server_name)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def test_https_checks_the_certificate_for_the_name_while_connecting_to_the_checked_address(
    campaign, receiver, tls_receiver
):
    port, seen = tls_receiver
    subscription = subscribe(campaign, receiver, url=f"https://localhost:{port}/hooks")

    assert webhook_delivery_send(pending(subscription).pk) == "delivered"
    assert seen == {"sni": ["localhost"], "hosts": [f"localhost:{port}"]}

    # The same server reached under a name its certificate does not cover: refused.
    other = subscribe(campaign, receiver, url=f"https://127.0.0.1:{port}/hooks")
    delivery = pending(other)
    assert webhook_delivery_send(delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert "certificate" in delivery.error and delivery.response_status is None
