"""Shared fixtures: a campaign with one member per role, and an outsider campaign."""

import socket
from collections.abc import Callable

import pytest
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from suffrage.core.models import Campaign, User
from suffrage.core.roles import Role
from tests.factories import PASSWORD, CampaignFactory, MembershipFactory, UserFactory

# Property tests check results, not speed: a busy machine must not fail them for
# generating examples slowly.
hypothesis_settings.register_profile("suffrage", suppress_health_check=[HealthCheck.too_slow], deadline=None)
hypothesis_settings.load_profile("suffrage")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate limits and cached map shapes must not leak from one test to the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    """Job outputs and roll indexes go to a temporary folder of the test, not the
    developer's var/ (shared by parallel workers, whose ids collide)."""
    settings.PRIVATE_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": tmp_path}},
    }


@pytest.fixture
def campaign(db) -> Campaign:
    return CampaignFactory(name="Brest 2027", slug="brest-2027")


@pytest.fixture
def other_campaign(db) -> Campaign:
    return CampaignFactory(name="Quimper 2027", slug="quimper-2027")


@pytest.fixture
def member(campaign) -> Callable[[str], User]:
    """member(role) -> a user holding that role in `campaign`."""

    def make(role: str) -> User:
        return MembershipFactory(campaign=campaign, role=role, user=UserFactory(email=f"{role}@brest.example")).user

    return make


@pytest.fixture
def owner(member) -> User:
    return member(Role.OWNER)


@pytest.fixture
def manager(member) -> User:
    return member(Role.MANAGER)


@pytest.fixture
def volunteer(member) -> User:
    return member(Role.VOLUNTEER)


@pytest.fixture
def outsider(other_campaign) -> User:
    """Owner of another campaign: must see nothing of `campaign`."""
    user = UserFactory(email="owner@quimper.example")
    MembershipFactory(campaign=other_campaign, user=user, role=Role.OWNER)
    return user


@pytest.fixture
def login() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        assert client.login(email=user.email, password=PASSWORD)
        return client

    return make


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback (aiosmtpd); Django sends to it over SMTP.

    Yields the list of received messages (email.message.Message objects).
    """
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(message_from_bytes(envelope.content))
            return "250 Message accepted for delivery"

    with socket.socket() as probe:  # a free port: aiosmtpd cannot start on port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    yield received
    controller.stop()
