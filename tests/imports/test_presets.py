"""Moving in from other tools: the people exports of NationBuilder, Action Network,
CiviCRM and Qomon are recognised by their columns, mapped with the tool's preset,
converted (tags, consent and do-not-contact flags, dates, numbers) and imported end
to end: a dry run that writes nothing, then the run, with a verdict for every row."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from suffrage.core.models import AuditLog, Job
from suffrage.imports import presets, services
from suffrage.imports.models import ImportBatch, ImportRow
from suffrage.imports.normalise import InvalidValue
from suffrage.people.models import ConsentEvent, Note, Person

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "presets"
NATIONBUILDER = "nationbuilder-people-export.csv"
ACTION_NETWORK = "action-network-activists-report.csv"
CIVICRM = "civicrm-contacts-export.csv"
QOMON = "qomon-contacts-export.csv"
OPTIONS = {"source": "import", "legal_basis": "consent", "match_on": "email", "on_match": "fill"}


@pytest.fixture
def campaign(campaign):
    """Tags the import makes (do not contact…) are named in the campaign's language: English here."""
    campaign.languages = ["en"]
    campaign.save()
    return campaign


def _upload(campaign, actor, name):
    upload = SimpleUploadedFile(name, (FIXTURES / name).read_bytes())
    return services.batch_create(campaign=campaign, upload=upload, actor=actor)


def _start(batch, actor, *, dry_run, **options):
    services.batch_configure(batch=batch, mapping=batch.mapping, options={**OPTIONS, **options}, actor=actor)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.import_start(batch=batch, actor=actor, dry_run=dry_run)
    job.refresh_from_db()
    batch.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.errors
    return job


def _import(campaign, actor, name):
    """Dry run (nothing written, the same counts), then the real run."""
    batch = _upload(campaign, actor, name)
    dry_run = _start(batch, actor, dry_run=True)
    assert not Person.objects.exists() and not ImportRow.objects.exists() and not ConsentEvent.objects.exists()
    job = _start(batch, actor, dry_run=False)
    assert job.counts == dry_run.counts
    assert batch.status == ImportBatch.Status.DONE
    return batch, job


def _verdicts(batch):
    return dict(ImportRow.objects.filter(batch=batch).values_list("row_number", "verdict"))


def _problem(batch, row_number):
    (problem,) = ImportRow.objects.get(batch=batch, row_number=row_number).messages
    return problem["field"], problem["message"]


def _person(**lookup):
    return Person.objects.get(**lookup)


def _tags(person):
    return set(person.tags.values_list("name", flat=True))


def _phones(person):
    return set(person.phones.values_list("number", flat=True))


def _consents(person):
    return {(event.channel, event.granted) for event in ConsentEvent.objects.filter(person=person)}


# --- Recognising the file ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key", "tool"),
    [
        (NATIONBUILDER, "nationbuilder", "NationBuilder"),
        (ACTION_NETWORK, "action_network", "Action Network"),
        (CIVICRM, "civicrm", "CiviCRM"),
        (QOMON, "qomon", "Qomon"),
    ],
)
def test_each_export_is_recognised_as_its_tool(campaign, manager, name, key, tool):
    batch = _upload(campaign, manager, name)
    assert batch.settings == {"preset": key, "source_detail": f"{tool} export", "recognised": True}
    assert batch.mapping == presets.preset_targets(presets.PRESETS[key], batch.headers)
    scores = {other: presets.preset_score(preset, batch.headers) for other, preset in presets.PRESETS.items()}
    assert scores[key] == 1.0
    assert all(score < presets.THRESHOLD for other, score in scores.items() if other != key)


@pytest.mark.parametrize(
    "header",
    [
        "Civilité;Prénom;Nom;Courriel;Portable;CP;Ville;Étiquettes;Consent. email",
        "first_name,last_name,email,phone,zip,tags,created_at",
        "Prénom;Nom;Email;Téléphone;Adresse;Code postal;Ville;Tags;Date de création",
    ],
)
def test_a_plain_spreadsheet_is_recognised_as_no_tool(campaign, manager, header):
    upload = SimpleUploadedFile("contacts.csv", f"{header}\n{'x;' * 3}\n".encode())
    batch = services.batch_create(campaign=campaign, upload=upload, actor=manager)
    assert presets.recognise(batch.headers) is None
    assert batch.settings == {}
    assert batch.mapping == [""] * len(batch.headers)


def test_one_characteristic_column_is_not_enough():
    assert presets.preset_score(presets.NATIONBUILDER, ["first_name", "last_name", "email", "tag_list"]) == 0.25
    assert presets.recognise(["first_name", "last_name", "email", "tag_list"]) is None
    assert presets.recognise(["first_name", "email", "tag_list", "nationbuilder_id"]).preset.key == "nationbuilder"


# --- Each tool end to end ------------------------------------------------------------------


def test_a_nationbuilder_export_moves_in(campaign, manager):
    batch, job = _import(campaign, manager, NATIONBUILDER)
    assert job.counts == {"created": 8, "rejected": 3, "errors": 3}
    assert _verdicts(batch) == {
        2: "created",
        3: "created",
        4: "created",
        5: "created",
        6: "rejected",
        7: "rejected",
        8: "rejected",
        9: "created",
        10: "created",
        11: "created",
        12: "created",
    }
    field, message = _problem(batch, 6)
    assert field == "born_at" and "31/12/1980" in message and "month" in message
    assert _problem(batch, 7) == ("is_deceased", "Marked as deceased in NationBuilder: not imported.")
    field, message = _problem(batch, 8)
    assert field == "email" and "soizic.leroux@example" in message

    anne = _person(external_id="1001")
    assert (anne.civility, anne.first_names, anne.usage_name) == ("Mme", "Anne", "Le Gall")
    assert anne.birth_date.isoformat() == "1985-03-14" and anne.is_volunteer
    assert anne.emails.get().address == "anne.legall@example.org"
    assert _phones(anne) == {"+33612345601", "+33298441234"}  # the apostrophe Excel needed is gone
    address = anne.addresses.get()
    assert (address.number, address.repetition, address.street) == ("12", "bis", "rue de Siam")
    assert (address.complement, address.postcode, address.town) == ("Appartement 3", "29200", "Brest")
    assert _tags(anne) == {"militante", "quartier Saint-Martin"}
    assert anne.support_level is None  # sensitive: never imported
    assert _consents(anne) == {("email", True), ("sms", True)}
    assert anne.consent_email is True and anne.consent_sms is True

    yann = _person(external_id="1002")
    assert yann.first_names == "Yann" and yann.civility == "M"  # the middle name is left out
    assert yann.birth_date.isoformat() == "1970-12-31"
    assert _consents(yann) == {("email", False), ("sms", False)}  # false: not consenting
    assert Note.objects.get(person=yann).text == "Rencontré au marché de Saint-Louis.\nÀ rappeler en mars."

    maelle = _person(external_id="1003")
    assert _tags(maelle) == {"Do not contact (NationBuilder)"}
    # Opted in, but "do not contact": the refusal wins.
    assert _consents(maelle) == {("email", False), ("sms", False)}

    herve = _person(external_id="1004")
    assert herve.civility == ""  # "Dr." is a title, not a civility
    assert _tags(herve) == {"Do not call (NationBuilder)"} and not _consents(herve)
    assert herve.birth_date.isoformat() == "1962-07-04"

    assert _tags(_person(external_id="1008")) == {"bénévole", "porte-à-porte"}
    assert _person(external_id="1008").emails.get().address == "gael.cariou@example.org"
    assert _phones(_person(external_id="1009")) == {"+33612345609"}
    katell = _person(external_id="1010")
    assert katell.civility == "Mme" and _phones(katell) == {"+33298441236"}
    assert katell.birth_date.isoformat() == "1990-02-01"
    loic = _person(external_id="1011")
    assert _phones(loic) == {"+33612345611"}  # Excel had dropped the leading zero
    assert _consents(loic) == {("sms", True)}  # a blank opt-in records nothing
    assert ConsentEvent.objects.count() == 9


def test_consent_from_another_tool_names_its_export_as_proof(campaign, manager):
    batch, _job = _import(campaign, manager, NATIONBUILDER)
    anne = _person(external_id="1001")
    for event in ConsentEvent.objects.filter(person=anne):
        assert "NationBuilder export" in event.form and event.form.endswith("2")
        assert event.source == "import"
    assert "NationBuilder export" in anne.source_detail and batch.original_name in anne.source_detail


def test_an_action_network_report_moves_in(campaign, manager):
    batch, job = _import(campaign, manager, ACTION_NETWORK)
    assert job.counts == {"created": 8, "rejected": 2, "errors": 2}
    assert _verdicts(batch) == {n: "rejected" if n in (6, 7) else "created" for n in range(2, 12)}
    field, message = _problem(batch, 6)
    assert field == "can2_subscription_status" and "maybe" in message
    field, message = _problem(batch, 7)
    assert field == "email" and "jean.tanguy(at)example.org" in message

    anne = _person(emails__address="anne.legall@example.org")
    assert anne.external_id == "6f1c2a4e-0b7d-4c1e-9a53-0d2f5e7a1001"
    assert _phones(anne) == {"+33612345601"}  # written without "+", and the same number twice
    address = anne.addresses.get()
    assert (address.number, address.street, address.postcode, address.town) == ("12", "rue de Siam", "29200", "Brest")
    assert _tags(anne) == {"Militante", "Quartier Saint-Martin"}
    assert _consents(anne) == {("email", True), ("sms", True)}
    assert _consents(_person(emails__address="yann.kerjean@example.org")) == {("email", False)}
    assert _consents(_person(emails__address="maelle.quere@example.org")) == {("email", False)}  # spam complaint
    herve = _person(emails__address="herve.lebihan@example.org")
    assert not _consents(herve)  # a bouncing address says nothing of their wishes
    assert _phones(herve) == {"+33298441235"}
    gael = _person(emails__address="gael.cariou@example.org")
    assert gael.addresses.get().postcode == "01000"  # the zero a spreadsheet dropped
    katell = _person(emails__address="katell.guivarch@example.org")
    assert _consents(katell) == {("email", True), ("sms", False)} and _phones(katell) == {"+33612345608"}
    assert _tags(_person(emails__address="tanguy.salaun@example.org")) == {"Porte-à-porte", "Bénévole"}
    assert _person(emails__address="loic.lemeur@example.org").first_names == ""


def test_a_civicrm_export_moves_in(campaign, manager):
    batch, job = _import(campaign, manager, CIVICRM)
    assert job.counts == {"created": 6, "rejected": 4, "errors": 4}
    assert _verdicts(batch) == {n: "rejected" if n in (4, 7, 8, 9) else "created" for n in range(2, 12)}
    field, message = _problem(batch, 4)
    assert field == "Contact Type" and "Organization" in message
    assert _problem(batch, 7) == ("Deceased", "Marked as deceased in CiviCRM: not imported.")
    field, message = _problem(batch, 8)
    assert field == "Contact Type" and "Household" in message
    field, message = _problem(batch, 9)
    assert field == "Birth Date" and "1990-02-30" in message

    anne = _person(external_id="101")
    assert (anne.civility, anne.first_names, anne.usage_name) == ("Mme", "Anne", "Le Gall")
    assert anne.birth_date.isoformat() == "1985-03-14"
    assert _phones(anne) == {"+33298441234"}
    address = anne.addresses.get()
    assert (address.number, address.street, address.complement) == ("12", "rue de Siam", "Bâtiment B")
    assert _tags(anne) == {"Newsletter", "Bénévoles", "Militante"}
    assert not _consents(anne)  # "Do Not Email: 0" is no consent: CiviCRM records none
    assert _consents(_person(external_id="102")) == {("email", False), ("sms", False)}
    herve = _person(external_id="104")
    assert _tags(herve) == {"Do not call (CiviCRM)", "Do not mail (CiviCRM)"} and herve.civility == ""
    maelle = _person(external_id="105")
    assert _tags(maelle) == {"Newsletter", "No bulk emails (CiviCRM)"}
    assert _consents(maelle) == {("email", False)}
    assert Note.objects.get(person__external_id="109").text == "Adhérent depuis 2015.\nPréfère le courrier."
    gwenaelle = _person(external_id="110")
    address = gwenaelle.addresses.get()
    assert (address.number, address.repetition, address.street, address.postcode) == (
        "3",
        "bis",
        "chemin du Vallon",
        "29200",
    )
    assert _phones(gwenaelle) == {"+33612345610"} and not gwenaelle.emails.exists()
    assert not Person.objects.filter(external_id__in=["103", "106", "107", "108"]).exists()


def test_a_qomon_export_moves_in(campaign, manager):
    batch, job = _import(campaign, manager, QOMON)
    assert (batch.encoding, batch.delimiter) == ("utf-8-sig", ";")
    assert job.counts == {"created": 7, "rejected": 3, "errors": 3}
    assert _verdicts(batch) == {n: "rejected" if n in (5, 6, 10) else "created" for n in range(2, 12)}
    field, message = _problem(batch, 5)
    assert field == "Consentement email" and "Peut-être" in message
    field, message = _problem(batch, 6)
    assert field == "Email" and "nolwenn.morvan@" in message
    field, message = _problem(batch, 10)
    assert field == "Date de naissance" and "32/01/1990" in message

    anne = _person(external_id="q-0001")
    assert (anne.civility, anne.first_names, anne.birth_name) == ("Mme", "Anne", "Le Gall")
    assert anne.birth_date.isoformat() == "1985-03-14"
    address = anne.addresses.get()
    assert (address.number, address.repetition, address.street, address.complement) == (
        "12",
        "bis",
        "rue de Siam",
        "Bâtiment B",
    )
    assert (address.postcode, address.town) == ("29200", "Brest")
    assert _tags(anne) == {"Militante", "Quartier Saint-Martin"}
    assert _consents(anne) == {("email", True), ("sms", True)}
    yann = _person(external_id="q-0002")
    # "Non" in the consent column is no consent recorded; the unsubscribe column is a withdrawal.
    assert _consents(yann) == {("email", False)}
    assert _tags(yann) == {"Donateur", "Unsubscribed from emails (Qomon)"}
    assert Note.objects.get(person=yann).text == "Rencontré au marché.\nÀ rappeler en mars."
    maelle = _person(external_id="q-0003")
    assert (maelle.birth_name, maelle.usage_name, maelle.display_name) == ("Quéré", "Le Bris", "Maëlle Le Bris")
    katell = _person(external_id="q-0006")
    assert _consents(katell) == {("sms", False)}  # consented, then unsubscribed
    assert _tags(katell) == {"Unsubscribed from SMS (Qomon)"}
    assert _phones(_person(external_id="q-0007")) == {"+33612345607"}
    assert _tags(_person(external_id="q-0010")) == {"Bénévole", "Porte-à-porte"}


def test_importing_a_later_export_matched_by_the_tools_identifier_changes_nothing(campaign, manager):
    for _attempt in range(2):
        batch = _upload(campaign, manager, NATIONBUILDER)
        job = _start(batch, manager, dry_run=False, match_on="external_id")
    assert job.counts == {"skipped": 8, "rejected": 3, "errors": 3}
    assert Person.objects.count() == 8 and ConsentEvent.objects.count() == 9


# --- The mapping page ----------------------------------------------------------------------


def _page(client, batch):
    return client.get(reverse("imports:detail", args=[batch.campaign.slug, batch.pk])).content.decode()


def test_the_mapping_page_proposes_the_recognised_preset(campaign, manager, login):
    batch = _upload(campaign, manager, NATIONBUILDER)
    client = login(manager)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = _page(client, batch)
    assert "This looks like a NationBuilder export: columns mapped with its preset." in page
    assert "· NationBuilder export</p>" in page  # the batch's provenance
    assert '<option value="nationbuilder" selected>NationBuilder (people export)</option>' in page
    assert "Political opinion, religion or origin (special-category data): never imported." in page  # party
    assert "A support level is sensitive" in page
    assert "Dates written month first (12/31/1980), as NationBuilder writes them." in page
    assert "Rows marked deceased are rejected, with the reason." in page
    tag_list = batch.headers.index("tag_list")
    assert '<option value="tags" selected>' in page.split(f'id="column_{tag_list}"')[1].split("</select>")[0]


def test_the_mapping_page_speaks_french_too(campaign, manager, login):
    batch = _upload(campaign, manager, QOMON)
    client = login(manager)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    page = _page(client, batch)
    assert '<html lang="fr">' in page
    assert '<option value="qomon" selected>' in page
    assert "Niveau de soutien" in page and "Désabonné email" in page
    with translation.override("fr"):
        notes = presets.column_notes(presets.QOMON, batch.headers, batch.mapping)
    support = batch.headers.index("Niveau de soutien")
    # The reason it is left out, in the page's language (escaped as the template does).
    assert notes[support] and escape(notes[support]) in page
    with translation.override("en"):
        assert notes[support] != presets.column_notes(presets.QOMON, batch.headers, batch.mapping)[support]


def test_the_user_can_choose_another_preset_or_none(campaign, manager, login):
    batch = _upload(campaign, manager, NATIONBUILDER)
    client = login(manager)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = reverse("imports:detail", args=[campaign.slug, batch.pk])

    client.post(url, {"action": "preset", "preset": ""})
    batch.refresh_from_db()
    assert batch.settings == {} and batch.mapping == [""] * len(batch.headers)
    assert "This looks like" not in _page(client, batch)

    client.post(url, {"action": "preset", "preset": "civicrm"})
    batch.refresh_from_db()
    assert batch.settings == {"preset": "civicrm", "source_detail": "CiviCRM export", "recognised": False}
    assert "Columns mapped with the CiviCRM preset." in _page(client, batch)

    client.post(url, {"action": "preset", "preset": "nationbuilder"})
    batch.refresh_from_db()
    assert batch.mapping == presets.preset_targets(presets.NATIONBUILDER, batch.headers)
    assert AuditLog.objects.filter(action="import.preset", object_id=str(batch.pk)).count() == 3

    response = client.post(url, {"action": "preset", "preset": "mailchimp"}, follow=True)
    assert "Choose a preset from the list." in response.content.decode()


def test_a_column_mapped_by_hand_is_taken_as_it_is(campaign, manager, login):
    batch = _upload(campaign, manager, NATIONBUILDER)
    mapping = list(batch.mapping)
    mapping[batch.headers.index("note")] = ""
    mapping[batch.headers.index("tag_list")] = "note"
    services.batch_configure(batch=batch, mapping=mapping, options=OPTIONS, actor=manager)
    client = login(manager)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "Your choice: the value is taken as it is, without the preset" in _page(client, batch)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.import_start(batch=batch, actor=manager, dry_run=False)
    anne = _person(external_id="1001")
    assert Note.objects.get(person=anne).text == "militante, quartier Saint-Martin"
    assert not _tags(anne)
    assert _person(external_id="1002").birth_date.isoformat() == "1970-12-31"  # other columns still convert


def test_the_preset_cannot_change_once_the_import_ran(campaign, manager, login):
    batch, _job = _import(campaign, manager, NATIONBUILDER)
    client = login(manager)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(
        reverse("imports:detail", args=[campaign.slug, batch.pk]), {"action": "preset", "preset": ""}, follow=True
    )
    assert "This import has started: its mapping can no longer change." in response.content.decode()
    batch.refresh_from_db()
    assert batch.settings["preset"] == "nationbuilder"


def test_choosing_a_preset_is_for_members_who_import_in_this_campaign(
    campaign, manager, volunteer, outsider, other_campaign, login
):
    batch = _upload(campaign, manager, NATIONBUILDER)
    form = {"action": "preset", "preset": ""}
    other_url = reverse("imports:detail", args=[other_campaign.slug, batch.pk])
    assert login(outsider).post(other_url, form).status_code == 404
    assert login(volunteer).post(reverse("imports:detail", args=[campaign.slug, batch.pk]), form).status_code == 403
    batch.refresh_from_db()
    assert batch.settings["preset"] == "nationbuilder"


# --- Conversions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("12 bis rue de Siam", {"number": "12", "repetition": "bis", "": "rue de Siam"}),
        ("3bis chemin du Vallon", {"number": "3", "repetition": "bis", "": "chemin du Vallon"}),
        ("7B  avenue   Foch", {"number": "7", "repetition": "b", "": "avenue Foch"}),
        ("12, rue de Siam, 29200 Brest", {"number": "12", "repetition": "", "": "rue de Siam"}),
        ("Lieu-dit Kerhuel", {"": "Lieu-dit Kerhuel"}),
        ("1600 Pennsylvania Avenue", {"number": "1600", "repetition": "", "": "Pennsylvania Avenue"}),
    ],
)
def test_a_street_line_is_split_into_number_and_street(line, expected):
    assert presets.street_line(line, "X") == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("'0612345678", "0612345678"), ("33612345678", "+33612345678"), ("612345678", "612345678"), ("+1 415", "+1 415")],
)
def test_numbers_lose_excel_protection_and_get_their_plus_back(cell, expected):
    assert presets.phone(cell, "X") == {"": expected}


def test_tag_lists_are_split_on_every_separator_the_tools_use():
    assert presets.tags("a, b|c; d\ne , a", "X") == {"": "a,b,c,d,e"}


def test_us_dates_are_read_month_first():
    assert presets.us_date("3/4/1985", "NationBuilder") == {"": "1985-03-04"}
    assert presets.us_date("1985-03-04", "NationBuilder") == {"": "1985-03-04"}
    with pytest.raises(InvalidValue):
        presets.us_date("13/01/1985", "NationBuilder")


@pytest.mark.parametrize(
    ("status", "expected"),
    [("subscribed", {"": "yes"}), ("Unsubscribed", {"": "no"}), ("spam complaint", {"": "no"}), ("bouncing", {})],
)
def test_action_network_statuses(status, expected):
    assert presets.subscription(status, "Action Network") == expected


def test_a_do_not_contact_flag_never_grants_consent():
    convert = presets.flag(presets.DO_NOT_CONTACT_TAG, withdraw=("email", "sms"))
    assert convert("false", "NationBuilder") == {}
    assert convert("0", "NationBuilder") == {}
    produced = convert("true", "NationBuilder")
    assert produced["consent_email"] == produced["consent_sms"] == "no"
    assert presets.consent_only("Non", "Qomon") == {}
    assert presets.opt_in("false", "NationBuilder") == {"": "no"}
