"""REST mailings: email and SMS in one list (filtered by channel and status), each
mailing, and its report with the figures of the mailing's page (the same selectors);
another campaign's mailing is a 404; the mailings scope is needed."""

from __future__ import annotations

from decimal import Decimal
from typing import get_args

import pytest
from django.utils import timezone

from suffrage.api.rest.mailings import MailingChannel, MailingStatus
from suffrage.messaging import selectors
from suffrage.messaging.models import Link, Mailing, TrackingEvent
from suffrage.texting.selectors import sms_report
from tests.api.conftest import ids
from tests.factories import (
    DeliveryFactory,
    MailingFactory,
    PostalAddressFactory,
    SmsMailingFactory,
    TrackingEventFactory,
    station_in,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def test_the_choices_in_the_schema_are_the_models():
    assert set(get_args(MailingChannel)) == set(Mailing.Channel.values)
    assert set(get_args(MailingStatus)) == set(Mailing.Status.values)


def test_email_and_sms_mailings_are_listed_together(campaign, other_campaign, api):
    email = MailingFactory(campaign=campaign, name="Lettre", created_at=NOW.replace(year=NOW.year - 1))
    sms = SmsMailingFactory(campaign=campaign, name="Rappel", status="sent", started_at=NOW)
    MailingFactory(campaign=other_campaign)

    body = api.get("/api/v1/mailings").json()

    assert body["count"] == 2 and [row["id"] for row in body["results"]] == [email.pk, sms.pk]
    assert body["results"][1]["channel"] == "sms" and body["results"][0]["segment_id"] == email.segment_id
    assert ids(api.get("/api/v1/mailings", {"sort": "-created_at"})) == [sms.pk, email.pk]
    assert ids(api.get("/api/v1/mailings", {"channel": "email"})) == [email.pk]
    assert ids(api.get("/api/v1/mailings", {"status": "sent"})) == [sms.pk]
    assert ids(api.get("/api/v1/mailings", {"sort": "name"})) == [email.pk, sms.pk]
    assert api.get("/api/v1/mailings", {"channel": "fax"}).status_code == 422


def test_a_mailing_shows_its_text_and_audience(campaign, api):
    mailing = MailingFactory(campaign=campaign, audience={"in_segment": 12, "will_receive": 9, "note": "x"})
    body = api.get(f"/api/v1/mailings/{mailing.pk}").json()
    assert body["body"] == mailing.body and body["subject"] == "Bonjour"
    assert body["audience"] == {"in_segment": 12, "will_receive": 9}


def _sent_email(campaign) -> Mailing:
    mailing = MailingFactory(campaign=campaign, status="sent", started_at=NOW, subject_b="Salut")
    station = station_in(campaign)
    link = Link.objects.create(mailing=mailing, position=1, url="https://campagne.example/programme")
    clicked = DeliveryFactory(mailing=mailing, variant="a", clicked_at=NOW, opened_at=NOW, delivered_at=NOW)
    TrackingEventFactory(delivery=clicked, kind=TrackingEvent.Kind.CLICKED, link=link)
    PostalAddressFactory(person=clicked.person, polling_station=station)
    DeliveryFactory(mailing=mailing, variant="b", unsubscribed_at=NOW)
    DeliveryFactory(mailing=mailing, status="failed", sent_at=None, error="550 unknown user")
    DeliveryFactory(mailing=mailing, status="queued", sent_at=None)
    return mailing


def test_an_email_report_has_the_figures_of_its_page(campaign, api):
    mailing = _sent_email(campaign)

    report = api.get(f"/api/v1/mailings/{mailing.pk}/report").json()

    numbers = selectors.mailing_numbers(mailing)
    assert {key: report[key] for key in numbers} == numbers
    assert (report["targeted"], report["sent"], report["failed"], report["pending"], report["clicked"]) == (
        4,
        2,
        1,
        1,
        1,
    )
    assert report["progress"] == selectors.progress(numbers) == 75
    assert (report["click_rate"], report["unsubscribe_rate"]) == (50.0, 50.0)
    assert report["links"] == [{"position": 1, "url": "https://campagne.example/programme", "clicks": 1}]
    station = selectors.by_station(mailing)[0]
    assert report["stations"] == [
        {
            "code": station["polling_station__code"],
            "name": station["polling_station__name"],
            "recipients": 1,
            "clicked": 1,
        }
    ]
    assert report["ab_test"] == [
        {"variant": "a", "sent": 1, "clicked": 1, "opened": 1},
        {"variant": "b", "sent": 1, "clicked": 0, "opened": 0},
    ]
    assert report["sms"] is None


def test_a_mailing_not_sent_yet_has_only_its_counts(campaign, api):
    mailing = MailingFactory(campaign=campaign)
    report = api.get(f"/api/v1/mailings/{mailing.pk}/report").json()
    assert report["targeted"] == 0 and report["progress"] == 0 and report["click_rate"] is None
    assert report["links"] == report["stations"] == report["ab_test"] == [] and report["sms"] is None


def test_an_sms_report_has_the_figures_of_its_page(campaign, api):
    mailing = SmsMailingFactory(campaign=campaign, status="sent", started_at=NOW)
    mailing.transport.price_per_part = Decimal("0.0450")
    mailing.transport.save()
    replied = DeliveryFactory(mailing=mailing, address="+33612345678", parts=2, delivered_at=NOW)
    TrackingEventFactory(delivery=replied, kind=TrackingEvent.Kind.REPLIED)
    DeliveryFactory(mailing=mailing, address="+33612345679", status="failed", sent_at=None, error="unreachable")

    report = api.get(f"/api/v1/mailings/{mailing.pk}/report").json()

    expected = sms_report(mailing)
    assert report["sms"] == {
        "replied": 1,
        "asked": expected["asked"],
        "agreed": expected["agreed"],
        "parts": 2,
        "cost": "0.09",
        "failures": [{"reason": "unreachable", "count": 1}],
    }
    assert expected["replied"] == 1 and expected["parts"] == 2
    assert report["targeted"] == expected["targeted"] == 2 and report["delivered"] == 1
    assert report["links"] == report["stations"] == []


def test_another_campaigns_mailing_is_a_404(campaign, other_campaign, api):
    mailing = MailingFactory(campaign=other_campaign)
    assert api.get(f"/api/v1/mailings/{mailing.pk}").status_code == 404
    assert api.get(f"/api/v1/mailings/{mailing.pk}/report").status_code == 404


def test_reading_mailings_needs_the_mailings_scope(campaign, api_for):
    mailing = MailingFactory(campaign=campaign)
    assert api_for(campaign, scopes=["engagement:read"]).get(f"/api/v1/mailings/{mailing.pk}").status_code == 403
    assert api_for(campaign, scopes=["mailings:read"]).get(f"/api/v1/mailings/{mailing.pk}/report").status_code == 200
