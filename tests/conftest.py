"""Shared fixtures: a campaign with one member per role, and an outsider campaign."""

from collections.abc import Callable

import pytest
from django.test import Client

from suffrage.core.models import Campaign, User
from suffrage.core.roles import Role
from tests.factories import PASSWORD, CampaignFactory, MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    """Job outputs go to a temporary folder, not the developer's var/."""
    settings.STORAGES = {**settings.STORAGES, "default": {**settings.STORAGES["default"], "OPTIONS": {"location": tmp_path}}}


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
