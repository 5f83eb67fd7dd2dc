"""The form and petition builder: fields chosen from a table that works without
JavaScript, consent wordings versioned so that earlier submissions keep their proof,
clear errors for a short name already taken or a form that cannot reach anyone."""

import pytest
from django.urls import reverse

from suffrage.core.models import AuditLog
from suffrage.core.roles import Role
from suffrage.engagement import services
from suffrage.engagement.models import Action, ConsentWording, Submission
from suffrage.people.models import Tag
from tests.factories import ActionFactory, CampaignFactory, CustomFieldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(login):
    """Pages in English, whatever translations exist: the tests read the English strings."""

    def make(user):
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


EMAIL_WORDING = "J'accepte de recevoir par email les nouvelles de Brest 2027."


def builder_data(**overrides):
    """What the builder posts: the form's settings, then one row per field asked."""
    data = {
        "title": "Rejoignez-nous",
        "slug": "rejoignez-nous",
        "kind": "signup",
        "status": "open",
        "description": "",
        "thanks_message": "Merci !",
        "redirect_url": "",
        "autoreply_subject": "",
        "autoreply_text": "",
        "target": "",
        "goal": "",
        "tag_name": "",
        "consent_email": EMAIL_WORDING,
        "consent_sms": "",
        "consent_phone": "",
        "consent_post": "",
        "first_names__ask": "on",
        "first_names__required": "on",
        "first_names__order": "10",
        "email__ask": "on",
        "email__required": "on",
        "email__order": "20",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def organiser(member):
    return member(Role.ORGANISER)


def new_url(campaign):
    return reverse("engagement:action_new", args=[campaign.slug])


def test_an_organiser_builds_a_form_with_fields_consents_and_a_tag(campaign, organiser, login):
    data = builder_data(
        tag_name="Bénévoles quartier Siam",
        **{"postcode__ask": "on", "postcode__order": "30", "postcode__label": "Votre code postal"},
    )
    response = login(organiser).post(new_url(campaign), data)
    action = Action.objects.get(campaign=campaign)
    assert response.status_code == 302
    assert response["Location"] == reverse("engagement:action_detail", args=[campaign.slug, action.pk])
    assert action.fields == [
        {"key": "first_names", "required": True, "label": ""},
        {"key": "email", "required": True, "label": ""},
        {"key": "postcode", "required": False, "label": "Votre code postal"},
    ]
    assert action.created_by == organiser
    assert action.tag == Tag.objects.get(campaign=campaign, name="Bénévoles quartier Siam")
    wording = ConsentWording.objects.get(action=action)
    assert (wording.channel, wording.version, wording.text) == ("email", 1, EMAIL_WORDING)
    assert AuditLog.objects.filter(action="action.create", object_id=str(action.pk)).exists()


def test_fields_are_saved_in_the_order_of_their_numbers(campaign, organiser, login):
    custom = CustomFieldFactory(campaign=campaign, key="quartier", label="Quartier")
    data = builder_data(
        **{
            "first_names__order": "30",
            "email__order": "10",
            f"custom:{custom.key}__ask": "on",
            f"custom:{custom.key}__order": "20",
        }
    )
    login(organiser).post(new_url(campaign), data)
    keys = [item["key"] for item in Action.objects.get(campaign=campaign).fields]
    assert keys == ["email", "custom:quartier", "first_names"]


def test_ticking_required_alone_asks_the_field(campaign, organiser, login):
    login(organiser).post(new_url(campaign), builder_data(**{"phone__required": "on", "phone__order": "5"}))
    fields = Action.objects.get(campaign=campaign).fields
    assert fields[0] == {"key": "phone", "required": True, "label": ""}


def test_the_kind_in_the_address_preselects_a_petition(campaign, organiser, login):
    page = login(organiser).get(new_url(campaign) + "?kind=petition").content.decode()
    assert '<option value="petition" selected>' in page


def test_a_new_form_suggests_a_lawful_email_and_sms_wording_in_the_campaigns_language(campaign, organiser, login):
    page = login(organiser).get(new_url(campaign)).content.decode()
    assert "J&#x27;accepte que Brest 2027 m&#x27;envoie par email" in page
    assert "en répondant STOP" in page
    english = CampaignFactory(name="Leeds Central", slug="leeds", languages=["en"])
    from tests.factories import MembershipFactory

    MembershipFactory(campaign=english, user=organiser, role=Role.ORGANISER)
    page = login(organiser).get(new_url(english)).content.decode()
    assert "I agree that Leeds Central may email me" in page


def test_editing_a_wording_makes_a_new_version_and_earlier_submissions_keep_theirs(campaign, organiser, login):
    client = login(organiser)
    client.post(new_url(campaign), builder_data())
    action = Action.objects.get(campaign=campaign)
    first = ConsentWording.objects.get(action=action)
    submission = services.submission_record(
        action=action, data={"first_names": "Anne", "email": "anne@example.org", "consent_email": True}
    )
    new_words = "J'accepte que Brest 2027 m'écrive par email ; je peux me désinscrire à tout moment."
    edit = reverse("engagement:action_edit", args=[campaign.slug, action.pk])
    response = client.post(edit, builder_data(consent_email=new_words))
    assert response.status_code == 302
    versions = list(ConsentWording.objects.filter(action=action).order_by("version").values_list("version", "text"))
    assert versions == [(1, EMAIL_WORDING), (2, new_words)]
    submission.refresh_from_db()
    assert submission.consents == {"email": first.pk}
    later = services.submission_record(
        action=action, data={"first_names": "Yves", "email": "yves@example.org", "consent_email": True}
    )
    assert ConsentWording.objects.get(pk=later.consents["email"]).version == 2
    page = client.get(reverse("engagement:action_detail", args=[campaign.slug, action.pk])).content.decode()
    assert "v1" in page and "v2" in page and "shown now" in page


def test_saving_without_changing_the_wording_makes_no_new_version(campaign, organiser, login):
    client = login(organiser)
    client.post(new_url(campaign), builder_data())
    action = Action.objects.get(campaign=campaign)
    client.post(reverse("engagement:action_edit", args=[campaign.slug, action.pk]), builder_data(title="Autre titre"))
    assert ConsentWording.objects.filter(action=action).count() == 1


def test_emptying_a_wording_removes_its_checkbox_but_keeps_its_history(campaign, organiser, login):
    client = login(organiser)
    client.post(new_url(campaign), builder_data())
    action = Action.objects.get(campaign=campaign)
    client.post(reverse("engagement:action_edit", args=[campaign.slug, action.pk]), builder_data(consent_email=""))
    assert services.wordings_current(action) == []
    assert ConsentWording.objects.get(action=action).retired_at is not None


def test_a_short_name_already_used_in_the_campaign_is_refused_with_a_clear_error(campaign, organiser, login):
    ActionFactory(campaign=campaign, slug="rejoignez-nous")
    response = login(organiser).post(new_url(campaign), builder_data())
    assert response.status_code == 200
    assert "Another form of this campaign already uses “rejoignez-nous”" in response.content.decode()
    assert Action.objects.filter(campaign=campaign).count() == 1


def test_the_same_short_name_in_another_campaign_is_fine(campaign, other_campaign, organiser, login):
    ActionFactory(campaign=other_campaign, slug="rejoignez-nous")
    response = login(organiser).post(new_url(campaign), builder_data())
    assert response.status_code == 302
    assert Action.objects.filter(campaign=campaign, slug="rejoignez-nous").exists()


def test_an_empty_short_name_is_made_from_the_title(campaign, organiser, login):
    login(organiser).post(new_url(campaign), builder_data(title="Pétition : sauvons la piscine !", slug=""))
    assert Action.objects.get(campaign=campaign).slug == "petition-sauvons-la-piscine"


def test_a_form_asking_neither_email_nor_phone_is_refused(campaign, organiser, login):
    data = builder_data(**{"email__ask": None, "email__required": None})
    response = login(organiser).post(new_url(campaign), data)
    assert response.status_code == 200
    assert "Ask for the email address or the mobile phone" in response.content.decode()
    assert not Action.objects.exists()


def test_a_form_asking_only_the_phone_is_accepted(campaign, organiser, login):
    data = builder_data(**{"email__ask": None, "email__required": None, "phone__ask": "on"})
    assert login(organiser).post(new_url(campaign), data).status_code == 302
    assert [item["key"] for item in Action.objects.get().fields] == ["first_names", "phone"]


def test_sensitive_custom_fields_are_not_offered(campaign, organiser, login):
    CustomFieldFactory(campaign=campaign, key="opinion", label="Opinion politique", sensitive=True)
    CustomFieldFactory(campaign=campaign, key="quartier", label="Quartier")
    page = login(organiser).get(new_url(campaign)).content.decode()
    assert "Quartier" in page
    assert "Opinion politique" not in page


def test_the_edit_page_shows_the_fields_already_chosen(campaign, organiser, login):
    action = ActionFactory(campaign=campaign, fields=[{"key": "email", "required": True, "label": "Courriel"}])
    page = login(organiser).get(reverse("engagement:action_edit", args=[campaign.slug, action.pk])).content.decode()
    assert 'name="email__ask" id="id_email__ask" checked' in page
    assert 'name="first_names__ask" id="id_first_names__ask" aria' in page  # not ticked
    assert 'value="Courriel"' in page


def test_an_analyst_sees_the_form_but_not_the_edit_button(campaign, member, login):
    action = ActionFactory(campaign=campaign)
    analyst = member(Role.ANALYST)
    page = login(analyst).get(reverse("engagement:action_detail", args=[campaign.slug, action.pk]))
    assert page.status_code == 200
    assert reverse("engagement:action_edit", args=[campaign.slug, action.pk]) not in page.content.decode()
    assert login(analyst).get(new_url(campaign)).status_code == 403
    assert Submission.objects.count() == 0
