"""The right of access and to portability: everything held about a person, from every
app, with where it came from, as JSON, a page and a PDF."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from suffrage.core.audit import audit_record
from suffrage.core.roles import Role
from suffrage.privacy import access
from tests.factories import (
    ConsentEventFactory,
    CustomFieldFactory,
    DeliveryFactory,
    MailingFactory,
    NoteFactory,
    PersonEmailFactory,
    PersonFactory,
    PersonPhoneFactory,
    PostalAddressFactory,
    RightsRequestFactory,
    RollLinkFactory,
    SegmentFactory,
    SnapshotFactory,
    SnapshotMemberFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

SENT = timezone.make_aware(datetime.datetime(2027, 2, 1, 9, 30))


@pytest.fixture
def person(campaign, member):
    manager = member(Role.MANAGER)
    person = PersonFactory(
        campaign=campaign,
        first_names="Gwenaëlle",
        usage_name="Le Dû",
        is_member=True,
        source="import",
        source_detail="adherents-2026.csv",
        legal_basis="member",
        custom={"quartier": "Recouvrance"},
        field_sources={"usage_name": {"source": "manual", "detail": "corrected by phone", "at": "2026-12-01T10:00:00"}},
    )
    CustomFieldFactory(campaign=campaign, key="quartier", label="Quartier de résidence")
    PersonEmailFactory(person=person, address="gwen@example.org", source="import")
    PersonPhoneFactory(person=person, number="+33611223344")
    PostalAddressFactory(person=person, street="Rue Vauban")
    person.tags.add(TagFactory(campaign=campaign, name="Bénévoles port"))
    NoteFactory(person=person, text="Souhaite tracter le samedi.")
    ConsentEventFactory(person=person, form="Formulaire du meeting", wording="J'accepte les lettres.")
    mailing = MailingFactory(campaign=campaign, name="Lettre de février", subject="Nos propositions")
    DeliveryFactory(
        person=person,
        mailing=mailing,
        address="gwen@example.org",
        sent_at=SENT,
        opened_at=SENT + datetime.timedelta(hours=2),
    )
    link = RollLinkFactory(person=person, model__version__campaign=campaign, status="accepted")
    link.entry.station_code = "29019_0007"
    link.entry.save()
    snapshot = SnapshotFactory(campaign=campaign, purpose="static_list")
    SegmentFactory(campaign=campaign, name="Bénévoles actifs", snapshot=snapshot)
    SnapshotMemberFactory(snapshot=snapshot, person=person)
    RightsRequestFactory(campaign=campaign, person=person, kind="access")
    audit_record(
        action="person.update", campaign=campaign, obj=person, changes={"usage_name": ["Le Du", "Le Dû"]}, actor=manager
    )
    # Someone else, who must not appear.
    other = PersonFactory(campaign=campaign, first_names="Yann", usage_name="Kervella")
    PersonEmailFactory(person=other, address="yann@example.org")
    SnapshotMemberFactory(snapshot=snapshot, person=other)
    return person


def _rows(report, key):
    return report["sections"][key]["rows"]


def test_the_report_holds_every_section_with_its_values_and_sources(person):
    with translation.override("en"):
        report = access.access_report(person)
    json.dumps(report)  # serialisable as is
    assert report["person"] == {"id": person.pk, "name": "Gwenaëlle Le Dû"}
    assert report["controller"] == "Brest 2027"
    fields = {row["field"]: row for row in _rows(report, "fields")}
    assert fields["first names"]["value"] == "Gwenaëlle" and fields["first names"]["source"] == "File import"
    assert fields["first names"]["detail"] == "adherents-2026.csv"
    assert (
        fields["usage name"]["source"] == "Entered by hand" and fields["usage name"]["detail"] == "corrected by phone"
    )
    record = {row["field"]: row["value"] for row in _rows(report, "record")}
    assert record["Legal basis"] == "Member or regular contact" and record["Source detail"] == "adherents-2026.csv"
    assert _rows(report, "emails")[0]["address"] == "gwen@example.org"
    assert _rows(report, "emails")[0]["source"] == "File import"
    assert _rows(report, "phones")[0]["number"] == "+33611223344"
    assert "Rue Vauban" in _rows(report, "addresses")[0]["address"]
    assert _rows(report, "tags") == [{"name": "Bénévoles port"}]
    assert _rows(report, "custom_fields") == [{"field": "Quartier de résidence", "value": "Recouvrance"}]
    assert _rows(report, "notes")[0]["text"] == "Souhaite tracter le samedi."
    consent = _rows(report, "consent")[0]
    assert consent["form"] == "Formulaire du meeting" and consent["wording"] == "J'accepte les lettres."
    assert consent["granted"] is True and consent["channel"] == "Email" and consent["at"]
    message = _rows(report, "messages")[0]
    assert message["mailing"] == "Lettre de février" and message["subject"] == "Nos propositions"
    assert message["address"] == "gwen@example.org"
    assert message["sent_at"].startswith("2027-02-01") and message["opened_at"] and message["clicked_at"] is None
    assert _rows(report, "roll") == [
        {"polling_station": "29019_0007", "status": "Accepted", "created_at": _rows(report, "roll")[0]["created_at"]}
    ]
    assert _rows(report, "snapshots")[0]["name"] == ["Bénévoles actifs"]
    assert _rows(report, "rights_requests")[0]["kind"] == "Access"
    audit = _rows(report, "audit")
    assert audit[-1]["action"] == "person.update" and audit[-1]["by"] == "Manager"
    assert audit[-1]["fields"] == ["usage_name"]
    # Other people, and other electors of the roll, are not in it.
    text = json.dumps(report, ensure_ascii=False)
    assert "Kervella" not in text and "yann@example.org" not in text
    assert "MARTIN" not in text  # the roll entry's own names stay out


def test_the_json_file_is_indented_utf8(person):
    data = access.access_json(person)
    assert data.decode("utf-8").startswith("{\n  ")
    assert "Gwenaëlle".encode() in data
    assert json.loads(data)["sections"]["consent"]["rows"][0]["form"] == "Formulaire du meeting"


def test_the_page_shows_everything_and_escapes_names(person):
    person.first_names = "<script>alert(1)</script>"
    person.save()
    with translation.override("en"):
        page = access.access_html(person)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for text in (
        "Le Dû",
        "gwen@example.org",
        "Formulaire du meeting",
        "Lettre de février",
        "29019_0007",
        "Recouvrance",
    ):
        assert text in page, text
    assert "Messages sent to you" in page
    with translation.override("fr"):
        assert '<html lang="fr">' in access.access_html(person)


def test_the_pdf_is_a_document(person):
    pdf = access.access_pdf(person)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    if access.FONT_REGULAR.exists():
        assert b"DejaVu" in pdf  # a Unicode font is embedded, so any name prints


def test_the_pdf_falls_back_to_a_core_font_without_dejavu(person, monkeypatch, tmp_path):
    monkeypatch.setattr(access, "FONT_REGULAR", tmp_path / "missing.ttf")
    person.first_names = "Žofia 李"
    person.save()
    pdf = access.access_pdf(person)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    assert b"DejaVu" not in pdf and b"Helvetica" in pdf


def test_a_person_with_nothing_else_gets_empty_sections(campaign):
    person = PersonFactory(campaign=campaign)
    report = access.access_report(person)
    assert report["sections"]["messages"]["rows"] == [] and report["sections"]["roll"]["rows"] == []
    assert access.access_pdf(person).startswith(b"%PDF")


def test_the_report_says_who_looked_at_the_person(campaign, member, login):
    viewed = PersonFactory(campaign=campaign)
    organiser = member(Role.ORGANISER)
    login(organiser).get(reverse("people:detail", args=[campaign.slug, viewed.pk]))
    report = json.dumps(access.access_report(viewed), default=str)
    assert "person.view" in report
