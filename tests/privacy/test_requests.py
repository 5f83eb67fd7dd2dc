"""Rights requests: the officer's dashboard and deadlines, objection, and the public
page where a citizen asks and confirms by a link sent to their address."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.people.models import PersonEmail
from suffrage.privacy import services
from suffrage.privacy.models import RightsRequest, Suppression, one_month_after, suppression_digest
from tests.factories import PersonEmailFactory, PersonFactory, PersonPhoneFactory

pytestmark = pytest.mark.django_db


def test_the_deadline_is_one_month_later_even_at_the_end_of_a_month():
    assert one_month_after(datetime.date(2027, 1, 31)) == datetime.date(2027, 2, 28)
    assert one_month_after(datetime.date(2027, 12, 15)) == datetime.date(2028, 1, 15)


def test_the_officer_logs_a_request_and_sees_it_late_on_the_dashboard(campaign, member, login):
    officer = member(Role.DPO)
    client = login(officer)
    received = timezone.now() - datetime.timedelta(days=40)
    client.post(
        reverse("privacy:request_new", args=[campaign.slug]),
        {
            "kind": "access",
            "channel": "post",
            "requester_name": "Gwenaëlle Le Du",
            "contact_email": "gwen@example.org",
            "received_at": received.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    rights = RightsRequest.objects.get()
    assert rights.due_on == one_month_after(timezone.localdate(rights.received_at)) and rights.is_late
    page = client.get(reverse("privacy:dashboard", args=[campaign.slug])).content.decode()
    assert "Gwenaëlle Le Du" in page and 'class="late"' in page
    assert AuditLog.objects.filter(action="rights_request.create").exists()


def test_objection_stops_every_channel_and_suppresses_the_addresses(campaign, manager):
    person = PersonFactory(campaign=campaign, consent_email=True, consent_sms=True)
    PersonEmailFactory(person=person, address="yann@example.org")
    PersonPhoneFactory(person=person, number="+33612345678")
    services.person_object(person=person, actor=manager)
    person.refresh_from_db()
    assert [person.consent_email, person.consent_sms, person.consent_phone, person.consent_post] == [False] * 4
    assert PersonEmail.objects.get(person=person).status == PersonEmail.Status.SUPPRESSED
    assert person.phones.get().suppressed
    assert Suppression.objects.filter(digest=suppression_digest("yann@example.org"), reason="objection").exists()
    assert not Suppression.objects.filter(digest="yann@example.org").exists()  # only the hash is kept


def _ask(campaign, kind, email, mailbox, capture):
    with capture(execute=True):  # the link leaves once the request is saved
        response = Client().post(reverse("privacy_public", args=[campaign.slug]), {"kind": kind, "email": email})
    assert response.status_code == 200
    body = mailbox[-1].get_payload(decode=True).decode()
    return re.search(r"http://\S+/p/\S+/privacy/\S+/", body).group(0)


def test_a_citizen_stops_all_contact_from_the_public_page(
    campaign, smtp_server, django_capture_on_commit_callbacks, settings
):
    person = PersonFactory(campaign=campaign, consent_email=True)
    PersonEmailFactory(person=person, address="anne@example.org")
    link = _ask(campaign, "objection", "Anne@Example.org", smtp_server, django_capture_on_commit_callbacks)
    assert smtp_server[-1]["To"] == "anne@example.org"
    rights = RightsRequest.objects.get()
    assert rights.status == RightsRequest.Status.UNVERIFIED and rights.channel == "self_service"
    page = Client().get(link.replace(settings.SITE_URL, ""))
    assert page.status_code == 200
    rights.refresh_from_db()
    person.refresh_from_db()
    assert rights.status == RightsRequest.Status.DONE and rights.person == person and rights.verified_at
    assert person.consent_email is False
    assert PersonEmail.objects.get(person=person).status == PersonEmail.Status.SUPPRESSED


def test_an_erasure_asked_on_the_public_page_waits_for_the_officer(
    campaign, smtp_server, django_capture_on_commit_callbacks, settings
):
    PersonEmailFactory(person=PersonFactory(campaign=campaign), address="efface@example.org")
    link = _ask(campaign, "erasure", "efface@example.org", smtp_server, django_capture_on_commit_callbacks)
    Client().get(link.replace(settings.SITE_URL, ""))
    rights = RightsRequest.objects.get()
    assert rights.status == RightsRequest.Status.OPEN and rights.verified_at and rights.person


def test_a_wrong_or_expired_link_is_refused(campaign, smtp_server, django_capture_on_commit_callbacks, settings):
    link = _ask(campaign, "objection", "x@example.org", smtp_server, django_capture_on_commit_callbacks)
    path = link.replace(settings.SITE_URL, "")
    assert Client().get(path[:-3] + "xx/").status_code == 404
    RightsRequest.objects.update(received_at=timezone.now())
    from suffrage.privacy.models import Verification

    Verification.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert Client().get(path).status_code == 404


def test_the_public_page_does_not_tell_who_is_known_and_is_rate_limited(campaign, smtp_server):
    client = Client()
    url = reverse("privacy_public", args=[campaign.slug])
    answers = {client.post(url, {"kind": "access", "email": f"n{i}@example.org"}).status_code for i in range(5)}
    assert answers == {200}
    assert client.post(url, {"kind": "access", "email": "n6@example.org"}).status_code == 429


def test_a_robot_filling_the_hidden_field_sends_nothing(campaign, smtp_server):
    Client().post(
        reverse("privacy_public", args=[campaign.slug]),
        {"kind": "access", "email": "bot@example.org", "website": "http://spam.example"},
    )
    assert not RightsRequest.objects.exists() and not smtp_server


def test_a_citizen_confirms_by_a_code_texted_to_the_phone_on_file(
    campaign, manager, settings, tmp_path, django_capture_on_commit_callbacks
):
    from suffrage.messaging.services import transport_save
    from suffrage.people.models import PersonPhone

    settings.MAIL_SINK_DIR = str(tmp_path)
    transport_save(
        campaign=campaign, kind="sms_file", name="SMS", values={"folder": "codes"}, rate_per_second=1, actor=manager
    )
    person = PersonFactory(campaign=campaign, consent_sms=True)
    PersonPhoneFactory(person=person, number="+33612345678", sms_capable=True)
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("privacy_public", args=[campaign.slug]), {"kind": "objection", "phone": "06 12 34 56 78"}
        )
    assert response.status_code == 302
    texted = (tmp_path / "codes" / "sms.jsonl").read_text()
    code = re.search(r"\b(\d{6})\b", texted).group(1)
    assert "+33612345678" in texted
    wrong = "000000" if code != "000000" else "111111"
    page = client.post(response["Location"], {"code": wrong})
    assert page.status_code == 200 and RightsRequest.objects.get().status == RightsRequest.Status.UNVERIFIED
    done = client.post(response["Location"], {"code": code})
    assert done.status_code == 200
    rights = RightsRequest.objects.get()
    assert rights.status == RightsRequest.Status.DONE and rights.person == person
    assert PersonPhone.objects.get(person=person).suppressed
    person.refresh_from_db()
    assert person.consent_sms is False


def test_codes_stop_working_after_five_wrong_tries(campaign, manager, settings, tmp_path):
    from suffrage.messaging.services import transport_save

    settings.MAIL_SINK_DIR = str(tmp_path)
    transport_save(campaign=campaign, kind="sms_file", name="SMS", values={}, rate_per_second=1, actor=manager)
    reference, code = services.public_request_by_phone(campaign=campaign, kind="access", phone="+33612345678")
    for _attempt in range(5):
        assert services.public_code_check(campaign=campaign, reference=reference, code="abcdef") == "wrong"
    assert services.public_code_check(campaign=campaign, reference=reference, code=code) == "expired"
    assert services.public_code_check(campaign=campaign, reference=reference + "x", code=code) is None


def test_without_a_text_message_transport_the_phone_is_refused_clearly(campaign):
    response = Client().post(
        reverse("privacy_public", args=[campaign.slug]), {"kind": "access", "phone": "06 12 34 56 78"}
    )
    assert response.status_code == 200 and "field-error" in response.content.decode()
    assert not RightsRequest.objects.exists()
