"""The public site's settings: a logo checked by decoding it (PNG, JPEG or WebP, at
most 200 kB), allowed origins checked line by line, and the signup key rotated on
request with an audit row."""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.engagement.models import PublicSite
from suffrage.engagement.services import site_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(login):
    """Pages in English, whatever translations exist: the tests read the English strings."""

    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


def image(image_format, size=(40, 20), noise=False):
    picture = (
        Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size, "navy")
    )
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format)
    return buffer.getvalue()


def site_data(**overrides):
    data = {
        "title": "Brest en commun",
        "intro": "Rejoignez la campagne.",
        "colour": "#1d4ed8",
        "notice": "",
        "allowed_origins": "",
    }
    data.update(overrides)
    return data


def url(campaign):
    return reverse("engagement:site", args=[campaign.slug])


@pytest.mark.parametrize(
    ("image_format", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_a_png_jpeg_or_webp_logo_is_kept_with_its_type(campaign, manager, login, image_format, content_type):
    content = image(image_format)
    upload = SimpleUploadedFile("logo.bin", content, content_type="application/octet-stream")
    response = login(manager).post(url(campaign), site_data(logo_file=upload))
    assert response.status_code == 302
    site = PublicSite.objects.get(campaign=campaign)
    assert bytes(site.logo) == content
    assert site.logo_type == content_type  # from the decoded image, not what the browser said
    assert site.title == "Brest en commun"
    assert AuditLog.objects.filter(action="public_site.update", actor=manager).exists()


def test_an_svg_logo_is_refused(campaign, manager, login):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    upload = SimpleUploadedFile("logo.svg", svg, content_type="image/svg+xml")
    response = login(manager).post(url(campaign), site_data(logo_file=upload))
    assert response.status_code == 200
    assert "The logo must be a PNG, JPEG or WebP image." in response.content.decode()
    assert not site_for(campaign).logo


def test_a_file_renamed_as_a_png_is_refused(campaign, manager, login):
    upload = SimpleUploadedFile("logo.png", b"%PDF-1.4 not an image", content_type="image/png")
    response = login(manager).post(url(campaign), site_data(logo_file=upload))
    assert "The logo must be a PNG, JPEG or WebP image." in response.content.decode()


def test_a_gif_is_refused_even_though_it_is_an_image(campaign, manager, login):
    upload = SimpleUploadedFile("logo.gif", image("GIF"), content_type="image/gif")
    response = login(manager).post(url(campaign), site_data(logo_file=upload))
    assert "The logo must be a PNG, JPEG or WebP image." in response.content.decode()


def test_a_logo_over_200_kb_is_refused_with_its_size(campaign, manager, login):
    content = image("PNG", size=(300, 300), noise=True)
    assert len(content) > 200 * 1024
    upload = SimpleUploadedFile("logo.png", content, content_type="image/png")
    response = login(manager).post(url(campaign), site_data(logo_file=upload))
    assert f"The logo weighs {(len(content) + 1023) // 1024} kB; 200 kB at most." in response.content.decode()
    assert not site_for(campaign).logo


def test_the_logo_can_be_removed(campaign, manager, login):
    site = site_for(campaign)
    site.logo, site.logo_type = image("PNG"), "image/png"
    site.save()
    login(manager).post(url(campaign), site_data(logo_remove="on"))
    site.refresh_from_db()
    assert site.logo is None and site.logo_type == ""


def test_saving_other_settings_keeps_the_logo(campaign, manager, login):
    site = site_for(campaign)
    site.logo, site.logo_type = image("PNG"), "image/png"
    site.save()
    login(manager).post(url(campaign), site_data(title="Autre titre"))
    site.refresh_from_db()
    assert site.logo and site.title == "Autre titre"


def test_allowed_origins_are_kept_one_per_line_without_a_trailing_slash(campaign, manager, login):
    origins = "https://www.brest-en-commun.fr/\n\nhttps://Preview.Example.org:8443\nhttps://www.brest-en-commun.fr"
    assert login(manager).post(url(campaign), site_data(allowed_origins=origins)).status_code == 302
    site = site_for(campaign)
    assert site.origins() == ["https://www.brest-en-commun.fr", "https://preview.example.org:8443"]


@pytest.mark.parametrize(
    "bad",
    [
        "http://www.example.fr",
        "https://www.example.fr/contact",
        "www.example.fr",
        "https://www.example.fr:99999",
        "https://*.example.fr",
    ],
)
def test_an_origin_that_is_not_one_is_refused_naming_its_line(campaign, manager, login, bad):
    origins = f"https://www.example.fr\n{bad}"
    response = login(manager).post(url(campaign), site_data(allowed_origins=origins))
    assert response.status_code == 200
    assert f"Line 2, “{bad}”" in response.content.decode()
    assert site_for(campaign).allowed_origins == ""


def test_a_colour_must_be_written_as_hex(campaign, manager, login):
    response = login(manager).post(url(campaign), site_data(colour="blue"))
    assert "A colour is written #rrggbb" in response.content.decode()


def test_the_page_shows_the_signup_key_and_the_endpoint(campaign, manager, login):
    site = site_for(campaign)
    page = login(manager).get(url(campaign)).content.decode()
    assert site.api_key in page
    assert f"/e/{campaign.slug}/api/person_signup/" in page


def test_rotating_the_key_changes_it_and_is_audited(campaign, manager, login):
    old = site_for(campaign).api_key
    response = login(manager).post(reverse("engagement:site_rotate_key", args=[campaign.slug]))
    assert response.status_code == 302
    new = PublicSite.objects.get(campaign=campaign).api_key
    assert new != old and len(new) >= 30
    entry = AuditLog.objects.get(action="public_site.rotate_key")
    assert entry.actor == manager and entry.campaign == campaign
    assert old not in str(entry.changes) and new not in str(entry.changes)


def test_the_key_cannot_be_rotated_by_a_get(campaign, manager, login):
    old = site_for(campaign).api_key
    response = login(manager).get(reverse("engagement:site_rotate_key", args=[campaign.slug]))
    assert response.status_code == 405
    assert site_for(campaign).api_key == old


@pytest.mark.parametrize("role", [Role.ORGANISER, Role.ANALYST])
def test_only_owners_and_managers_configure_the_site(campaign, member, login, role):
    client = login(member(role))
    old = site_for(campaign).api_key
    assert client.get(url(campaign)).status_code == 403
    assert client.post(reverse("engagement:site_rotate_key", args=[campaign.slug])).status_code == 403
    assert site_for(campaign).api_key == old
