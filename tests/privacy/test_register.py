"""The processing register (GDPR art. 30) and the DPIA checklist: generated from what
the campaign configured, kept as the officer edits it, exported, audited."""

import pytest
from django.urls import reverse
from django.utils import translation

from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.people.models import SupportLevel
from suffrage.privacy.models import ProcessingRegister
from suffrage.privacy.register import (
    dpia_prefill,
    dpia_questions,
    register_generate,
    register_html,
    register_markdown,
    register_refresh,
    register_save,
)
from tests.factories import (
    CustomFieldFactory,
    MatchModelFactory,
    PersonFactory,
    RollVersionFactory,
    TransportConfigFactory,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _answers(register):
    return {key: entry["answer"] for key, entry in register.dpia.items()}


def test_the_register_counts_the_real_sources_and_legal_bases(campaign, other_campaign):
    PersonFactory.create_batch(3, campaign=campaign, source="web_form", legal_basis="consent")
    PersonFactory.create_batch(2, campaign=campaign, source="roll", legal_basis="legitimate_interest")
    PersonFactory(campaign=campaign, source="manual", legal_basis="member", is_member=True)
    PersonFactory.create_batch(7, campaign=other_campaign, source="event")  # another campaign: not counted

    document = register_generate(campaign)

    assert "Brest 2027" in document
    assert "- Web form: 3 people" in document
    assert "- Electoral roll: 2 people — not collected from the person" in document
    assert "art. 14" in document
    assert "- Entered by hand: 1 person" in document
    assert "- Consent: 3 people" in document
    assert "- Legitimate interest: 2 people" in document
    assert "- Member or regular contact: 1 person" in document
    assert "People in the contact base: 6" in document
    assert "Members: 1" in document
    assert "Event" not in document.split("## 6.")[1].split("## 7.")[0]


def test_the_register_names_the_configured_processors(campaign):
    TransportConfigFactory(campaign=campaign, name="Envois", kind="brevo")
    TransportConfigFactory(campaign=campaign, name="Secours", kind="sendgrid")

    document = register_generate(campaign)
    processors = document.split("## 8.")[1].split("## 9.")[0]

    assert "Brevo" in processors and "France (EU)" in processors
    assert "SendGrid" in processors and "SCCs" in processors
    assert "Email communication" in document


def test_special_category_data_only_when_a_support_level_is_recorded(campaign):
    person = PersonFactory(campaign=campaign)
    assert "special-category" not in register_generate(campaign)

    person.support_level = SupportLevel.STRONG
    person.save()
    document = register_generate(campaign)

    assert "special-category data (political opinion)" in document
    assert "9(2)(d)" in document


def test_user_values_cannot_inject_markup(campaign):
    CustomFieldFactory(campaign=campaign, label="<script>alert(1)</script> *quartier*")
    register = register_refresh(campaign=campaign, actor=None)

    html = register_html(register)

    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_the_register_lists_each_retention_rule(campaign):
    from suffrage.privacy.retention import DEFAULT_RULES

    retention = register_generate(campaign).split("## 9.")[1].split("## 10.")[0]

    for rule in DEFAULT_RULES.values():
        assert f"- {rule.label}: " in retention


def test_the_register_is_generated_in_french_too(campaign):
    PersonFactory(campaign=campaign, source="web_form")
    with translation.override("fr"):
        document = register_generate(campaign)
    assert "Brest 2027" in document
    assert document.startswith("# ")


def test_the_dpia_prefill_says_matching_when_the_roll_is_matched(campaign):
    assert dpia_prefill(campaign)["matching"]["answer"] == "no"

    MatchModelFactory(version=RollVersionFactory(campaign=campaign))
    matching = dpia_prefill(campaign)["matching"]

    assert matching["answer"] == "yes"
    assert "matching" in matching["note"]


def test_the_dpia_prefill_covers_every_question_and_flags_transfers(campaign):
    TransportConfigFactory(campaign=campaign, kind="postmark")
    prefill = dpia_prefill(campaign)

    assert set(prefill) == {question.key for question in dpia_questions()}
    assert prefill["transfers"]["answer"] == "yes"
    assert "Postmark" in prefill["transfers"]["note"]
    assert prefill["rights_procedure"]["answer"] == "no"  # no privacy contact set


def test_saving_keeps_the_officers_edits_and_a_refresh_keeps_their_answers(campaign, owner):
    register = register_refresh(campaign=campaign, actor=owner)
    assert register.generated_at and register.document
    assert _answers(register)["matching"] == "no"

    register_save(
        register=register,
        document="# Mon registre\n\nÉdité à la main.",
        dpia={
            "matching": {"answer": "yes", "note": "Fichier de l'ancien maire fusionné."},
            "vulnerable": {"answer": "no", "note": ""},
            "transfers": {"answer": "no", "note": "Aucun transfert : vérifié par le candidat."},
        },
        actor=owner,
    )
    register.refresh_from_db()
    assert register.document == "# Mon registre\n\nÉdité à la main."
    assert register.edited_by == owner

    MatchModelFactory(version=RollVersionFactory(campaign=campaign))
    TransportConfigFactory(campaign=campaign, kind="sendgrid")
    register = register_refresh(campaign=campaign, actor=owner)

    assert register.dpia["matching"] == {
        "answer": "yes",
        "note": "Fichier de l'ancien maire fusionné.",
        "prefilled": False,
    }
    assert register.dpia["transfers"]["answer"] == "no"  # the officer's, although SendGrid is now configured
    assert register.dpia["vulnerable"]["answer"] == "no"
    # A suggested answer the officer left alone follows the configuration.
    assert register.dpia["innovative"]["prefilled"] is True
    assert "Splink" in register.dpia["innovative"]["note"]
    assert "Mon registre" not in register.document  # regenerating replaces the text, as the page warns
    actions = list(AuditLog.objects.filter(campaign=campaign).values_list("action", flat=True))
    assert actions.count("privacy.register_refresh") == 2 and "privacy.register_save" in actions


def test_saving_an_answer_unchanged_keeps_it_suggested(campaign, owner):
    register = register_refresh(campaign=campaign, actor=owner)
    suggested = dict(register.dpia["security"])
    register_save(
        register=register,
        document=register.document,
        dpia={"security": {"answer": suggested["answer"], "note": suggested["note"]}},
        actor=owner,
    )
    register.refresh_from_db()
    assert register.dpia["security"]["prefilled"] is True


def test_saving_refuses_unknown_answers(campaign, owner):
    from django.core.exceptions import ValidationError

    register = register_refresh(campaign=campaign, actor=owner)
    with pytest.raises(ValidationError):
        register_save(register=register, document="x", dpia={"matching": {"answer": "maybe"}}, actor=owner)
    with pytest.raises(ValidationError):
        register_save(register=register, document="x", dpia={"nonsense": {"answer": "yes"}}, actor=owner)
    register.refresh_from_db()
    assert register.document != "x"


def test_exports_return_the_document_and_the_checklist(campaign, owner):
    TransportConfigFactory(campaign=campaign, kind="brevo")
    register = register_refresh(campaign=campaign, actor=owner)
    register_save(
        register=register,
        document=register.document + "\nNote de l'officier.\n",
        dpia={"matching": {"answer": "yes", "note": "Vérifié."}},
        actor=owner,
    )

    markdown = register_markdown(register)
    html = register_html(register)

    assert markdown.startswith(register.document.rstrip())
    assert "Impact assessment checklist" in markdown and "Vérifié." in markdown
    assert "<h1>" in html and "Brevo" in html and "officier." in html
    assert "Vérifié." in html and "<table>" in html


# --- pages ------------------------------------------------------------------------------


def test_the_page_generates_then_saves_then_regenerates_on_confirm(campaign, owner, login):
    client = login(owner)
    url = reverse("privacy:register", args=[campaign.slug])

    page = client.get(url)
    assert page.status_code == 200
    assert not ProcessingRegister.objects.filter(campaign=campaign).exists()  # a GET writes nothing

    client.post(url, {"action": "regenerate"})
    register = ProcessingRegister.objects.get(campaign=campaign)
    page = client.get(url)
    assert TITLE_FR in page.content.decode()  # generated in the page's language

    data = {"action": "save", "document": "# Edited\n"}
    for question in dpia_questions():
        data[f"{question.key}__answer"] = "unknown"
        data[f"{question.key}__note"] = ""
    data["matching__answer"] = "yes"
    assert client.post(url, data).status_code == 302
    register.refresh_from_db()
    assert register.document == "# Edited\n"
    assert register.dpia["matching"]["answer"] == "yes"

    client.post(url, {"action": "regenerate"})  # not confirmed: the edits stay
    register.refresh_from_db()
    assert register.document == "# Edited\n"

    client.post(url, {"action": "regenerate", "confirm": "1"})
    register.refresh_from_db()
    assert register.document.startswith(f"# {TITLE_FR}")
    assert register.dpia["matching"]["answer"] == "yes"


TITLE_FR = "Registre des activités de traitement"


@pytest.mark.parametrize(("fmt", "content_type"), [("md", "text/markdown"), ("html", "text/html")])
def test_downloads_are_audited(campaign, owner, login, fmt, content_type):
    register_refresh(campaign=campaign, actor=owner)
    response = login(owner).get(reverse("privacy:register_download", args=[campaign.slug, fmt]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert "Brest 2027" in response.content.decode()
    entry = AuditLog.objects.filter(campaign=campaign, action="privacy.register_export").get()
    assert entry.changes == {"format": fmt} and entry.actor == owner


def test_an_unknown_format_is_not_found(campaign, owner, login):
    response = login(owner).get(reverse("privacy:register_download", args=[campaign.slug, "pdf"]))
    assert response.status_code == 404


def test_only_officers_reach_the_register(campaign, member, login):
    manager = member(Role.MANAGER)
    response = login(manager).get(reverse("privacy:register", args=[campaign.slug]))
    assert response.status_code == 403
