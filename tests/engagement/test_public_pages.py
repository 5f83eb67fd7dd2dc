"""The campaign's public pages as a citizen uses them, without an account: the home
page, forms and petitions, double opt-in, events with RSVPs and tickets, calls to
action, page views, languages."""

import datetime
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from suffrage.engagement import public, services
from suffrage.engagement.models import RSVP, PageView, Response, Submission
from suffrage.messaging.models import Notice
from suffrage.people.models import ConsentEvent, Person, PersonEmail, Source
from tests.factories import (
    ActionFactory,
    CallToActionFactory,
    CampaignFactory,
    ConsentWordingFactory,
    EventFactory,
    PersonEmailFactory,
    PersonFactory,
    PersonPhoneFactory,
    RSVPFactory,
    SubmissionFactory,
)

pytestmark = pytest.mark.django_db

IP = "203.0.113.5"
WORDING = "J'accepte de recevoir les nouvelles de la campagne par email."


@pytest.fixture
def campaign(campaign):
    """Pages in English first (the campaign may add French): assertions read English text."""
    campaign.languages = ["en", "fr"]
    campaign.save()
    return campaign


def page_url(name, campaign, *args, **query):
    url = reverse(f"engagement_public:{name}", args=[campaign.slug, *args])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def token_of(response):
    return re.search(r'name="_token" value="([^"]+)"', response.content.decode()).group(1)


def submit(client, url, data, ip=IP):
    """Open the page (as a browser does: it gets the form's token), then send the form."""
    token = token_of(client.get(url, REMOTE_ADDR=ip))
    return client.post(url, {**data, "_token": token}, REMOTE_ADDR=ip)


def anne(**overrides):
    return {"first_names": "Anne", "last_name": "Le Gall", "email": "anne@example.org", **overrides}


def form_with_consent(campaign, **kwargs):
    action = ActionFactory(campaign=campaign, **kwargs)
    ConsentWordingFactory(action=action, channel="email", text=WORDING)
    return action


# --- Home and addresses ----------------------------------------------------------------------


def test_the_home_page_lists_open_things_only(client, campaign):
    ActionFactory(campaign=campaign, title="Open form")
    ActionFactory(campaign=campaign, title="Draft form", status="draft")
    ActionFactory(campaign=campaign, title="Closed form", status="closed")
    EventFactory(campaign=campaign, title="Coming meeting")
    EventFactory(campaign=campaign, title="Draft meeting", status="draft")
    past = timezone.now() - datetime.timedelta(days=3)
    EventFactory(campaign=campaign, title="Past meeting", starts_at=past)
    CallToActionFactory(campaign=campaign, title="Open call")
    CallToActionFactory(campaign=campaign, title="Draft call", status="draft")
    ActionFactory(campaign=CampaignFactory(), title="Someone else's form")

    content = client.get(page_url("home", campaign)).content.decode()

    for shown in ("Open form", "Coming meeting", "Open call"):
        assert shown in content
    for hidden in ("Draft form", "Closed form", "Draft meeting", "Past meeting", "Draft call", "Someone else's form"):
        assert hidden not in content


def test_an_unknown_campaign_is_404(client, db):
    assert client.get("/e/nobody/").status_code == 404
    assert client.get("/e/nobody/f/form/").status_code == 404


def test_drafts_are_404(client, campaign):
    action = ActionFactory(campaign=campaign, status="draft")
    event = EventFactory(campaign=campaign, status="draft")
    call = CallToActionFactory(campaign=campaign, status="draft")
    assert client.get(page_url("action", campaign, action.slug)).status_code == 404
    assert client.get(page_url("event", campaign, event.slug)).status_code == 404
    assert client.get(page_url("event_ics", campaign, event.slug)).status_code == 404
    assert client.get(page_url("call", campaign, call.slug)).status_code == 404
    assert client.get(page_url("call_go", campaign, call.slug)).status_code == 404


def test_another_campaigns_things_are_404_under_this_campaigns_address(client, campaign, other_campaign):
    action = ActionFactory(campaign=other_campaign)
    event = EventFactory(campaign=other_campaign)
    call = CallToActionFactory(campaign=other_campaign)
    rsvp = RSVPFactory(event=event)
    assert client.get(page_url("action", campaign, action.slug)).status_code == 404
    assert client.get(page_url("event", campaign, event.slug)).status_code == 404
    assert client.get(page_url("call", campaign, call.slug)).status_code == 404
    assert client.get(page_url("ticket", campaign, rsvp.token)).status_code == 404
    assert client.post(page_url("ticket", campaign, rsvp.token), {"cancel": "1"}).status_code == 404
    assert RSVP.objects.get(pk=rsvp.pk).status == "going"
    # …and under their own campaign's address they exist.
    assert client.get(page_url("action", other_campaign, action.slug)).status_code == 200


# --- Forms -----------------------------------------------------------------------------------


def test_the_form_marks_required_fields_and_shows_the_information_notice(client, campaign):
    action = form_with_consent(campaign)
    content = client.get(page_url("action", campaign, action.slug)).content.decode()

    assert "Fields marked with * are required; the others are optional." in content
    assert re.search(r'<label for="id_first_names">First name <span class="req" aria-hidden="true">\*</span>', content)
    assert re.search(r'<label for="id_last_name">Last name</label>', content)  # optional: no mark
    assert re.search(r'<input[^>]*name="first_names"[^>]*required', content)
    assert escape(WORDING) in content
    assert "Brest 2027 collects what you give here" in content
    assert f'href="{reverse("privacy_public", args=[campaign.slug])}"' in content


def test_the_campaigns_own_notice_replaces_the_default_one(client, campaign):
    site = services.site_for(campaign)
    site.notice = "Responsable : l'association de financement **Brest 2027**."
    site.save()
    content = client.get(page_url("action", campaign, ActionFactory(campaign=campaign).slug)).content.decode()
    assert "Responsable : l'association de financement <strong>Brest 2027</strong>." in content
    assert "collects what you give here" not in content


def test_the_description_is_markdown_rendered_safely(client, campaign):
    action = ActionFactory(campaign=campaign, description="**Important** <script>alert(1)</script>")
    content = client.get(page_url("action", campaign, action.slug)).content.decode()
    assert "<strong>Important</strong>" in content
    assert "<script>alert(1)" not in content


def test_a_submission_creates_a_person_with_provenance_and_consent_proof(client, campaign):
    action = form_with_consent(campaign, title="Restons en contact")
    response = submit(client, page_url("action", campaign, action.slug), anne(consent_email="on"))

    assert response.status_code == 302
    assert response["Location"] == page_url("action_thanks", campaign, action.slug)
    person = Person.objects.get(campaign=campaign)
    assert (person.source, person.source_detail) == (Source.WEB_FORM, "Restons en contact")
    assert (person.first_names, person.usage_name, person.consent_email) == ("Anne", "Le Gall", True)
    proof = ConsentEvent.objects.get(person=person)
    assert (proof.wording, proof.form, proof.ip, proof.granted) == (WORDING, "Restons en contact · v1", IP, True)
    submission = Submission.objects.get(action=action)
    assert (submission.via, submission.ip, submission.person) == ("page", IP, person)


def test_the_same_email_again_finds_the_same_person_and_fills_only_empty_fields(client, campaign):
    known = PersonFactory(campaign=campaign, first_names="Anne", usage_name="", source="manual")
    PersonEmailFactory(person=known, address="anne@example.org")
    action = ActionFactory(campaign=campaign)

    response = submit(
        client, page_url("action", campaign, action.slug), anne(first_names="Annie", email="ANNE@example.org")
    )

    assert response.status_code == 302
    assert Person.objects.filter(campaign=campaign).count() == 1
    known.refresh_from_db()
    assert known.first_names == "Anne"  # not overwritten
    assert known.usage_name == "Le Gall"  # was empty: filled
    assert known.source == "manual"
    assert PersonEmail.objects.filter(person=known).count() == 1


def test_a_phone_number_finds_the_person(client, campaign):
    known = PersonFactory(campaign=campaign, first_names="Anne")
    PersonPhoneFactory(person=known, number="+33612345678")
    action = ActionFactory(campaign=campaign, fields=[{"key": "first_names"}, {"key": "phone", "required": True}])

    submit(client, page_url("action", campaign, action.slug), {"first_names": "Anne", "phone": "06 12 34 56 78"})

    assert Person.objects.filter(campaign=campaign).count() == 1
    assert Submission.objects.get().person == known


def test_a_name_alone_never_finds_a_person(client, campaign):
    known = PersonFactory(campaign=campaign, first_names="Anne", usage_name="Le Gall")
    PersonEmailFactory(person=known, address="anne@example.org")
    action = ActionFactory(campaign=campaign)

    submit(client, page_url("action", campaign, action.slug), anne(email="another.anne@example.org"))

    assert Person.objects.filter(campaign=campaign, first_names="Anne", usage_name="Le Gall").count() == 2
    assert Submission.objects.get().person != known


def test_an_invalid_email_is_shown_beside_the_field_with_the_typed_values_kept(client, campaign):
    action = ActionFactory(campaign=campaign)
    response = submit(client, page_url("action", campaign, action.slug), anne(email="anne-at-example"))

    assert response.status_code == 400
    content = response.content.decode()
    error = re.search(r'<p class="field-error" id="id_email_error">([^<]+)</p>', content)
    assert error and "email" in error.group(1).lower()
    assert re.search(r'<input[^>]*name="email"[^>]*aria-invalid="true"', content)
    assert re.search(r'<input[^>]*name="email"[^>]*aria-describedby="id_email_error"', content)
    assert 'value="Anne"' in content and 'value="Le Gall"' in content and 'value="anne-at-example"' in content
    assert not Person.objects.exists()


def test_text_longer_than_a_field_allows_is_refused(client, campaign):
    action = ActionFactory(campaign=campaign)
    response = submit(client, page_url("action", campaign, action.slug), anne(first_names="A" * 5000))
    assert response.status_code == 400
    assert not Person.objects.exists()


def test_after_submitting_the_person_goes_to_the_forms_own_page_if_it_has_one(client, campaign):
    action = ActionFactory(campaign=campaign, redirect_url="https://www.brest2027.example/merci")
    response = submit(client, page_url("action", campaign, action.slug), anne())
    assert response["Location"] == "https://www.brest2027.example/merci"


def test_the_thanks_page_shows_the_forms_message(client, campaign):
    action = ActionFactory(campaign=campaign, thanks_message="Merci, à très vite sur le marché !")
    content = client.get(page_url("action_thanks", campaign, action.slug)).content.decode()
    assert "Merci, à très vite sur le marché !" in content


def test_a_closed_form_says_so_and_takes_no_answer(client, campaign):
    action = ActionFactory(campaign=campaign, status="closed")
    page = client.get(page_url("action", campaign, action.slug))
    assert page.status_code == 200
    assert "This form is closed" in page.content.decode()
    assert 'name="first_names"' not in page.content.decode()

    client.post(page_url("action", campaign, action.slug), anne())
    assert not Person.objects.exists()


def test_a_form_closed_while_the_page_was_open_takes_no_answer(client, campaign):
    action = ActionFactory(campaign=campaign)
    url = page_url("action", campaign, action.slug)
    token = token_of(client.get(url))
    action.status = "closed"
    action.save()

    response = client.post(url, {**anne(), "_token": token})

    assert "This form is closed" in response.content.decode()
    assert not Person.objects.exists()


# --- Petitions -------------------------------------------------------------------------------


def test_a_petition_counts_confirmed_signatures_and_lists_only_the_signers_who_agreed(client, campaign):
    petition = ActionFactory(campaign=campaign, kind="petition", goal=10, public_signers=True, target="Le maire")
    for first, last, shown in (("Anne Marie", "Le Gall", True), ("Paul", "Martin", True), ("Jeanne", "Secret", False)):
        SubmissionFactory(
            action=petition,
            person=PersonFactory(campaign=campaign, first_names=first, usage_name=last),
            show_name=shown,
        )
    SubmissionFactory(
        action=petition,
        person=PersonFactory(campaign=campaign, first_names="Pending", usage_name="Person"),
        show_name=True,
        status="pending",
    )

    content = client.get(page_url("action", campaign, petition.slug)).content.decode()

    assert re.search(r"<strong data-count>3</strong>\s*signatures", content)
    assert '<progress max="10" value="3"' in content
    assert "Le maire" in content
    signers = re.search(r'<ul class="signers">(.*?)</ul>', content, re.S).group(1)
    assert "<li>Anne L.</li>" in signers and "<li>Paul M.</li>" in signers
    assert "Jeanne" not in signers and "Secret" not in signers and "Pending" not in signers


def test_a_signer_chooses_to_show_their_name(client, campaign):
    petition = ActionFactory(campaign=campaign, kind="petition", public_signers=True)
    url = page_url("action", campaign, petition.slug)
    assert 'name="show_name"' in client.get(url).content.decode()

    submit(client, url, anne(show_name="on"))
    submit(client, url, anne(email="paul@example.org", first_names="Paul", show_name=""))

    assert list(Submission.objects.order_by("pk").values_list("show_name", flat=True)) == [True, False]
    signers = re.search(r'<ul class="signers">(.*?)</ul>', client.get(url).content.decode(), re.S).group(1)
    assert "Anne L." in signers and "Paul" not in signers


def test_without_public_signers_there_is_no_name_box(client, campaign):
    petition = ActionFactory(campaign=campaign, kind="petition", public_signers=False)
    assert 'name="show_name"' not in client.get(page_url("action", campaign, petition.slug)).content.decode()


# --- Double opt-in ---------------------------------------------------------------------------


def confirmation_link(campaign):
    notice = Notice.objects.get(campaign=campaign, kind="confirmation")
    return re.search(r"http\S+/confirm/\S+/", notice.text).group(0).split("://", 1)[1].split("/", 1)[1]


def test_with_double_opt_in_the_consent_counts_only_once_the_link_is_confirmed(client, campaign):
    action = form_with_consent(campaign, double_opt_in=True)
    response = submit(client, page_url("action", campaign, action.slug), anne(consent_email="on"))

    assert response["Location"].endswith("?pending=1")
    assert "One more step" in client.get(response["Location"]).content.decode()
    assert not ConsentEvent.objects.exists()
    link = "/" + confirmation_link(campaign)

    opened = client.get(link)  # a mail provider's link checker opens it too: nothing yet
    assert opened.status_code == 200 and "Confirm my address" in opened.content.decode()
    assert not ConsentEvent.objects.exists()

    confirmed = client.post(link, REMOTE_ADDR="198.51.100.9")

    assert "your address is confirmed" in confirmed.content.decode()
    proof = ConsentEvent.objects.get()
    assert (proof.wording, proof.ip) == (WORDING, "198.51.100.9")
    assert Submission.objects.get().status == "confirmed"
    assert Person.objects.get().consent_email is True


def test_an_unknown_confirmation_link_says_so(client, campaign):
    response = client.get(page_url("confirm", campaign, "not-a-real-secret"))
    assert response.status_code == 404
    assert "This link is unknown or no longer valid" in response.content.decode()
    assert client.post(page_url("confirm", campaign, "not-a-real-secret")).status_code == 404


# --- Events ----------------------------------------------------------------------------------


def rsvp_data(**overrides):
    return {**anne(), "guests": "0", **overrides}


def test_an_rsvp_is_recorded_and_its_ticket_goes_by_email(client, campaign):
    event = EventFactory(campaign=campaign, capacity=50)
    response = submit(client, page_url("event", campaign, event.slug), rsvp_data(guests="2"))

    rsvp = RSVP.objects.get(event=event)
    assert (rsvp.status, rsvp.guests, rsvp.person.first_names) == ("going", 2, "Anne")
    assert rsvp.person.source == Source.EVENT
    assert response.status_code == 302
    assert response["Location"] == page_url("event", campaign, event.slug, booked="going")
    assert "your place is booked" in client.get(response["Location"]).content.decode()
    notice = Notice.objects.get(campaign=campaign, kind="rsvp")
    assert notice.to == "anne@example.org" and page_url("ticket", campaign, rsvp.token) in notice.text


def test_typing_someone_elses_address_does_not_hand_over_their_ticket(client, campaign):
    event = EventFactory(campaign=campaign)
    anne_rsvp = RSVPFactory(event=event, person=PersonFactory(campaign=campaign, first_names="Anne"))
    PersonEmailFactory(person=anne_rsvp.person, address="anne@example.org")

    response = submit(client, page_url("event", campaign, event.slug), rsvp_data(first_names="Mallory"))

    assert response["Location"] == page_url("event", campaign, event.slug, booked="going")
    assert anne_rsvp.token not in client.get(response["Location"]).content.decode()
    assert RSVP.objects.get(pk=anne_rsvp.pk).status == "going"


def test_the_event_page_shows_the_seats_left(client, campaign):
    event = EventFactory(campaign=campaign, capacity=10)
    RSVPFactory(event=event, guests=2)
    content = client.get(page_url("event", campaign, event.slug)).content.decode()
    assert re.search(r"<dt>Seats left</dt>\s*<dd>7</dd>", content)


def test_a_full_event_puts_people_on_the_waiting_list(client, campaign):
    event = EventFactory(campaign=campaign, capacity=1, waitlist=True)
    url = page_url("event", campaign, event.slug)
    submit(client, url, rsvp_data())
    submit(client, url, rsvp_data(email="paul@example.org", first_names="Paul"))
    assert list(RSVP.objects.order_by("pk").values_list("status", flat=True)) == ["going", "waitlist"]


def test_a_full_event_without_a_waiting_list_says_so_and_records_nothing(client, campaign):
    event = EventFactory(campaign=campaign, capacity=1, waitlist=False)
    url = page_url("event", campaign, event.slug)
    submit(client, url, rsvp_data())

    response = submit(client, url, rsvp_data(email="paul@example.org", first_names="Paul"))

    assert response.status_code == 409
    assert "the event is full" in response.content.decode()
    assert RSVP.objects.count() == 1
    assert not Person.objects.filter(first_names="Paul").exists()


def test_the_event_is_shown_in_its_own_time_zone(client, campaign):
    starts = datetime.datetime(2099, 6, 1, 18, 0, tzinfo=datetime.UTC)
    event = EventFactory(campaign=campaign, time_zone="America/New_York", starts_at=starts)
    content = client.get(page_url("event", campaign, event.slug)).content.decode()
    assert "14:00" in content and "America/New_York" in content


def test_the_place_links_to_openstreetmap_and_the_map_needs_a_tile_server(client, campaign, settings):
    event = EventFactory(campaign=campaign, latitude=48.390394, longitude=-4.486076)
    settings.MAP_TILES_URL = ""
    content = client.get(page_url("event", campaign, event.slug)).content.decode()
    assert "https://www.openstreetmap.org/?mlat=48.390394&amp;mlon=-4.486076" in content
    assert "data-event-map" not in content and "leaflet" not in content

    settings.MAP_TILES_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    response = client.get(page_url("event", campaign, event.slug))
    assert "data-event-map" in response.content.decode() and "leaflet.js" in response.content.decode()
    assert "img-src 'self' data: https://tiles.example.org" in response["Content-Security-Policy"]


def test_the_calendar_file_describes_the_event(client, campaign):
    event = EventFactory(campaign=campaign, title="Réunion publique à Brest")
    response = client.get(page_url("event_ics", campaign, event.slug))
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert "BEGIN:VEVENT" in body and "SUMMARY:Réunion publique à Brest" in body


def test_the_events_page_groups_events_by_month_with_a_calendar(client, campaign):
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    EventFactory(campaign=campaign, title="June meeting", starts_at=datetime.datetime(2099, 6, 12, 18, tzinfo=paris))
    EventFactory(campaign=campaign, title="July meeting", starts_at=datetime.datetime(2099, 7, 3, 18, tzinfo=paris))
    EventFactory(campaign=campaign, title="Cancelled meeting", status="cancelled")

    content = client.get(page_url("events", campaign)).content.decode()

    assert content.count('<table class="calendar">') >= 2
    assert re.search(r'<h2 id="m2099-06">June 2099</h2>', content) and '<h2 id="m2099-07">July 2099</h2>' in content
    assert content.index("June meeting") < content.index("July meeting")
    assert re.search(r'<span class="day">12</span><a href="#event-\d+" class="dot" title="June meeting">', content)
    assert "Cancelled" in content


def test_the_ticket_shows_a_qr_code_of_the_check_in_page(client, campaign, settings):
    rsvp = RSVPFactory(event=EventFactory(campaign=campaign))
    response = client.get(page_url("ticket", campaign, rsvp.token))
    content = response.content.decode()
    assert re.search(r'<div class="qr-code"><svg viewBox="[\d ]+"', content)
    assert "Cancel my place" in content
    assert response["Cache-Control"] == "no-store"
    checkin = reverse("engagement:checkin_token", kwargs={"campaign_slug": campaign.slug, "token": rsvp.token})
    assert public.checkin_url(campaign, rsvp) == f"{settings.SITE_URL}{checkin}"


def test_cancelling_from_the_ticket_gives_the_place_to_the_waiting_list(client, campaign):
    event = EventFactory(campaign=campaign, capacity=1)
    coming = RSVPFactory(event=event)
    waiting = RSVPFactory(event=event, status="waitlist")

    response = client.post(page_url("ticket", campaign, coming.token), {"cancel": "1"})

    assert response.status_code == 302
    assert RSVP.objects.get(pk=coming.pk).status == "cancelled"
    assert RSVP.objects.get(pk=waiting.pk).status == "going"
    content = client.get(page_url("ticket", campaign, coming.token)).content.decode()
    assert "Your place is cancelled." in content and "<svg" not in content


# --- Calls to action -------------------------------------------------------------------------


def test_a_donation_click_is_recorded_and_sent_to_the_payment_page(client, campaign):
    call = CallToActionFactory(campaign=campaign, kind="donate", url="https://dons.example.org/brest")
    page = client.get(page_url("call", campaign, call.slug)).content.decode()
    assert f'href="{page_url("call_go", campaign, call.slug)}"' in page

    response = client.get(page_url("call_go", campaign, call.slug))

    assert response.status_code == 302 and response["Location"] == "https://dons.example.org/brest"
    assert list(Response.objects.values_list("call", "kind", "person")) == [(call.pk, "click", None)]


def test_sharing_records_the_network_and_sends_to_its_share_page(client, campaign):
    call = CallToActionFactory(campaign=campaign, kind="share", url="https://www.brest2027.example/programme")
    response = client.get(page_url("call_go", campaign, call.slug, to="bluesky"))
    assert response.status_code == 302
    assert response["Location"].startswith("https://bsky.app/intent/compose?text=")
    assert "brest2027.example" in response["Location"]
    email = client.get(page_url("call_go", campaign, call.slug, to="email"))
    assert email["Location"].startswith("mailto:?subject=")
    assert sorted(Response.objects.values_list("detail", flat=True)) == ["bluesky", "email"]


def test_sharing_to_an_unknown_network_is_refused(client, campaign):
    call = CallToActionFactory(campaign=campaign, kind="share")
    for network in ("myspace", "", "javascript:alert(1)"):
        assert client.get(page_url("call_go", campaign, call.slug, to=network)).status_code == 400
    assert not Response.objects.exists()


def test_taking_a_shift_makes_the_person_a_volunteer(client, campaign):
    call = CallToActionFactory(campaign=campaign, kind="shift", url="", slots=2)
    url = page_url("call", campaign, call.slug)
    response = submit(client, url, {"first_names": "Anne", "last_name": "Le Gall", "email": "anne@example.org"})

    assert response.status_code == 302
    person = Person.objects.get(campaign=campaign)
    assert person.is_volunteer is True
    assert Response.objects.get().kind == "commit"
    content = client.get(response["Location"]).content.decode()
    assert "Your place on this shift is booked" in content and "1 place left." in content


def test_an_event_call_links_to_the_event(client, campaign):
    event = EventFactory(campaign=campaign)
    call = CallToActionFactory(campaign=campaign, kind="event", url="", event=event)
    content = client.get(page_url("call", campaign, call.slug)).content.decode()
    assert f'href="{page_url("event", campaign, event.slug)}"' in content


# --- Page views, languages, logo ---------------------------------------------------------------


def test_page_views_are_counted_per_page_and_day(client, campaign):
    action = ActionFactory(campaign=campaign)
    event = EventFactory(campaign=campaign)
    call = CallToActionFactory(campaign=campaign)
    for _ in range(2):
        client.get(page_url("action", campaign, action.slug))
    client.get(page_url("action", campaign, action.slug, embed=1))
    client.get(page_url("event", campaign, event.slug))
    client.get(page_url("call", campaign, call.slug))
    client.get(page_url("action_thanks", campaign, action.slug))  # not a view of the form

    counts = dict(PageView.objects.filter(campaign=campaign).values_list("page", "count"))
    assert counts == {f"action:{action.pk}": 3, f"event:{event.pk}": 1, f"call:{call.pk}": 1}


def test_the_language_switch_shows_the_page_in_the_campaigns_languages(client, campaign):
    campaign.languages = ["fr", "en"]
    campaign.save()
    action = ActionFactory(campaign=campaign, title="Rejoignez Brest 2027")
    url = page_url("action", campaign, action.slug)

    french = client.get(url).content.decode()
    english = client.get(url + "?lang=en").content.decode()

    assert '<html lang="fr"' in french and "Rejoignez Brest 2027" in french
    assert f'href="{url}?lang=en"' in french and ">English</a>" in french
    assert '<html lang="en"' in english and "Fields marked with * are required" in english
    assert f'href="{url}?lang=fr"' in english and ">Français</a>" in english
    # The chosen language stays through the form's address.
    assert f'action="{url}?lang=en"' in english


def test_a_language_the_campaign_does_not_use_is_not_offered(client, campaign):
    campaign.languages = ["fr"]
    campaign.save()
    action = ActionFactory(campaign=campaign)
    content = client.get(page_url("action", campaign, action.slug) + "?lang=en").content.decode()
    assert '<html lang="fr"' in content
    assert "?lang=" not in content


def test_the_logo_is_served_from_the_database_with_caching_headers(client, campaign):
    site = services.site_for(campaign)
    site.logo, site.logo_type = b"\x89PNG fake", "image/png"
    site.save()
    home = client.get(page_url("home", campaign)).content.decode()
    logo_url = re.search(r'<img src="([^"]+)" alt="" class="logo"', home).group(1)

    response = client.get(logo_url)

    assert response.content == b"\x89PNG fake" and response["Content-Type"] == "image/png"
    assert "max-age=86400" in response["Cache-Control"]
    assert client.get(logo_url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_without_a_logo_there_is_none(client, campaign):
    assert client.get(page_url("logo", campaign)).status_code == 404
    assert 'class="logo"' not in client.get(page_url("home", campaign)).content.decode()


def test_the_brand_colour_keeps_text_readable():
    assert public.site_colours("#ffeb3b")["on_brand"] == "#111111"  # dark text on yellow
    assert public.site_colours("#1d4ed8")["on_brand"] == "#ffffff"
    link = public.site_colours("#ffeb3b")["link"]
    assert public._contrast(link, "#ffffff") >= 4.5
    assert public.site_colours("red; } body { display: none")["brand"] == "#1d4ed8"
