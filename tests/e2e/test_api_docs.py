"""The API's browsable documentation renders in a real browser from our own static
files (no CDN), lists the endpoints, and a call made from it with a token answers."""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.factories import ApiTokenFactory, CampaignFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_documentation_page_lists_the_endpoints_and_calls_one(page, live_server):
    campaign = CampaignFactory(name="Brest en commun", slug="brest")
    token = ApiTokenFactory(campaign=campaign)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))

    page.goto(f"{live_server.url}/api/v1/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Suffrage")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/people").first).to_be_visible()
    # Authorise with the token, then try the root call.
    page.locator("button.authorize").first.click()
    page.locator(".modal-ux input[type=text], .modal-ux input[type=password]").first.fill(token.key)
    page.locator(".modal-ux button.authorize").first.click()
    page.locator(".modal-ux button.btn-done, .modal-ux button.close-modal").first.click()
    root = page.locator(".opblock", has=page.locator(".opblock-summary-path[data-path='/api/v1/']"))
    root.locator(".opblock-summary").click()
    root.locator("button.try-out__btn").click()
    root.locator("button.execute").click()
    expect(root.locator(".live-responses-table tbody .response-col_status").first).to_contain_text("200")
    expect(root.locator(".live-responses-table tbody .microlight").first).to_contain_text("Brest en commun")
    assert hosts == {urlparse(live_server.url).netloc}
