"""Every campaign-scoped view, found by walking the URL configuration, keeps
campaigns apart and checks roles. Views added later are picked up automatically."""

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from suffrage.core.access import permission_table
from suffrage.core.roles import Role
from tests.factories import MembershipFactory, UserFactory
from tests.url_kwargs import NOT_OBJECTS, OBJECT_FACTORIES


@dataclass(frozen=True)
class CampaignRoute:
    name: str
    kwargs: tuple[str, ...]
    permission: str
    method: str
    # The object must also be assigned to the user (campaign_view(assigned_only=True)).
    assigned_only: bool = False

    def __str__(self) -> str:
        return self.name


def _walk(patterns, namespace="", converters=()):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner, (*converters, *entry.pattern.converters))
        elif isinstance(entry, URLPattern):
            yield namespace, entry, (*converters, *entry.pattern.converters)


def campaign_routes() -> list[CampaignRoute]:
    routes = []
    for namespace, pattern, converters in _walk(get_resolver().url_patterns):
        permission = getattr(pattern.callback, "campaign_permission", None)
        if permission is None:
            continue
        assert pattern.name, f"campaign view {pattern.callback.__name__} needs a URL name"
        methods = pattern.callback.campaign_methods
        routes.append(
            CampaignRoute(
                name=f"{namespace}{pattern.name}",
                kwargs=tuple(name for name in converters if name != "campaign_slug"),
                permission=permission,
                method="GET" if "GET" in methods else "POST",
                assigned_only=pattern.callback.assigned_only,
            )
        )
    return routes


ROUTES = campaign_routes()


def test_the_walk_finds_the_campaign_views():
    names = {route.name for route in ROUTES}
    assert {"core:dashboard", "core:members", "core:audit", "core:job_download"} <= names


def test_every_campaign_view_url_argument_has_an_object_factory():
    missing = {kwarg for route in ROUTES for kwarg in route.kwargs} - set(OBJECT_FACTORIES)
    assert not missing, f"add factories for {missing} in tests/url_kwargs.py"


def test_every_campaign_view_is_registered_under_a_campaign_slug():
    # A view wrapped in campaign_view but mounted without <campaign_slug> would fail at run time.
    for _namespace, pattern, converters in _walk(get_resolver().url_patterns):
        if hasattr(pattern.callback, "campaign_permission"):
            assert "campaign_slug" in converters, pattern.name


def _url(route, campaign, kwargs_campaign):
    kwargs = {name: OBJECT_FACTORIES[name](kwargs_campaign) for name in route.kwargs}
    return reverse(route.name, kwargs={"campaign_slug": campaign.slug, **kwargs})


def _request(client, route, url):
    return client.get(url) if route.method == "GET" else client.post(url)


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_member_of_another_campaign_gets_404(route, campaign, outsider, login):
    response = _request(login(outsider), route, _url(route, campaign, campaign))
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in ROUTES if set(r.kwargs) - NOT_OBJECTS], ids=str)
def test_another_campaigns_object_gets_404_even_for_an_owner(route, campaign, other_campaign, owner, login):
    response = _request(login(owner), route, _url(route, campaign, other_campaign))
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_role_without_the_permission_gets_403(route, campaign, login):
    allowed = permission_table()[route.permission].roles
    for role in set(Role) - allowed:
        user = UserFactory()
        MembershipFactory(campaign=campaign, user=user, role=role)
        response = _request(login(user), route, _url(route, campaign, campaign))
        assert response.status_code == 403, f"{role} reached {route}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_role_with_the_permission_gets_through(route, campaign, login):
    for role in permission_table()[route.permission].roles:
        user = UserFactory()
        MembershipFactory(campaign=campaign, user=user, role=role)
        response = _request(login(user), route, _url(route, campaign, campaign))
        refusals = (403,) if route.assigned_only else (403, 404)  # a 404: not assigned to this new member
        assert response.status_code not in refusals, f"{role} refused at {route}"
        assert response.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_an_anonymous_visitor_is_sent_to_sign_in(route, campaign, client):
    response = _request(client, route, _url(route, campaign, campaign))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
