"""factory_boy factories for the core models. Later apps add theirs beside these."""

import datetime

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from suffrage.api.scopes import Scope
from suffrage.core.models import AuditLog, CalendarElection, Campaign, Invitation, Job, Membership, User
from suffrage.core.roles import Role

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    require_mfa = False


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    campaign = factory.SubFactory(CampaignFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VOLUNTEER


class CalendarElectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarElection

    campaign = factory.SubFactory(CampaignFactory)
    name = "Municipales"
    kind = CalendarElection.Kind.MUNICIPAL
    first_round_on = datetime.date(2027, 3, 14)
    second_round_on = datetime.date(2027, 3, 21)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    campaign = factory.SubFactory(CampaignFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = Role.VOLUNTEER
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    campaign = factory.SubFactory(CampaignFactory)
    kind = "test"
    label = "Test job"
    required_permission = "core.view_jobs"
    status = Job.Status.SUCCEEDED
    result_file = factory.django.FileField(data=b"a,b\n1,2\n", filename="result.csv")


class AuditLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditLog

    campaign = factory.SubFactory(CampaignFactory)
    action = "test.action"


# --- people and imports ---------------------------------------------------------

from suffrage.imports.models import ImportBatch  # noqa: E402
from suffrage.people.models import CustomField, Person, PersonEmail, PersonPhone, Source  # noqa: E402


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    campaign = factory.SubFactory(CampaignFactory)
    first_names = factory.Faker("first_name", locale="fr_FR")
    usage_name = factory.Faker("last_name", locale="fr_FR")
    source = Source.MANUAL
    legal_basis = "consent"

    @factory.post_generation
    def search_keys(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            from suffrage.people.services import person_refresh_search

            person_refresh_search(self)


class PersonEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonEmail

    person = factory.SubFactory(PersonFactory)
    campaign = factory.SelfAttribute("person.campaign")
    address = factory.Sequence(lambda n: f"elector{n}@example.org")


class PersonPhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonPhone

    person = factory.SubFactory(PersonFactory)
    campaign = factory.SelfAttribute("person.campaign")
    number = factory.Sequence(lambda n: f"+336{n:08d}")
    kind = "mobile"
    sms_capable = True


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    campaign = factory.SubFactory(CampaignFactory)
    label = "Quartier"
    key = factory.Sequence(lambda n: f"field{n}")
    kind = CustomField.Kind.TEXT


class ImportBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportBatch

    campaign = factory.SubFactory(CampaignFactory)
    original_name = "contacts.csv"
    file = factory.django.FileField(
        data="Prénom;Nom;Email\nAnne;Le Gall;anne@example.org\n".encode(), filename="contacts.csv"
    )
    sha256 = "0" * 64
    format = "csv"
    encoding = "utf-8"
    delimiter = ";"
    headers = ["Prénom", "Nom", "Email"]
    mapping = ["first_names", "usage_name", "email"]
    source = "import"
    legal_basis = "consent"


# --- territory and elections -------------------------------------------------------

from suffrage.elections.models import Bloc, CandidateVotes, Election, PriorityRanking, Round, StationResult  # noqa: E402
from suffrage.territory.models import CampaignCommune, Commune, PollingStation  # noqa: E402

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-4.49, 48.39], [-4.48, 48.39], [-4.48, 48.40], [-4.49, 48.40], [-4.49, 48.39]]],
}


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune
        django_get_or_create = ("code",)

    code = "29019"
    name = "Brest"
    departement = "29"


class PollingStationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PollingStation

    commune = factory.SubFactory(CommuneFactory)
    number = factory.Sequence(lambda n: f"{n + 1:04d}")
    code = factory.LazyAttribute(lambda o: f"{o.commune.code}_{o.number}")
    name = factory.Sequence(lambda n: f"École {n}")
    geometry = SQUARE


def station_in(campaign, **kwargs):
    """A polling station in one of the campaign's communes."""
    station = PollingStationFactory(**kwargs)
    CampaignCommune.objects.get_or_create(campaign=campaign, commune=station.commune)
    return station


class ElectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Election
        django_get_or_create = ("kind", "year", "name")

    kind = "legislative"
    year = 2024
    name = "Législatives 2024"


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Round
        django_get_or_create = ("election", "number")

    election = factory.SubFactory(ElectionFactory)
    number = 1


def result_in(station, round_, *, registered=1000, voters=600, votes=(("UG", 300), ("RN", 200), ("ENS", 80))):
    result = StationResult.objects.create(
        round=round_,
        station=station,
        registered=registered,
        voters=voters,
        abstentions=registered - voters,
        blank=10,
        null=10,
        valid=sum(v for _, v in votes),
    )
    for index, (nuance, count) in enumerate(votes, start=1):
        CandidateVotes.objects.create(
            result=result, panel=str(index), nuance=nuance, name=f"Candidat {index}", votes=count
        )
    return result


class PriorityRankingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriorityRanking

    campaign = factory.SubFactory(CampaignFactory)
    name = "Ranking"
    round = factory.SubFactory(RoundFactory)
    family = "UG"


class BlocFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bloc

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Bloc {n}")
    nuances = ["UG", "FI"]


class RollVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "roll.RollVersion"

    campaign = factory.SubFactory(CampaignFactory)
    election = factory.LazyAttribute(lambda o: CalendarElectionFactory(campaign=o.campaign))
    scope = "29019"
    extracted_on = datetime.date(2026, 3, 1)


class RollEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "roll.RollEntry"

    version = factory.SubFactory(RollVersionFactory)
    campaign = factory.LazyAttribute(lambda o: o.version.campaign)
    elector_number = factory.Sequence(lambda n: f"{100000 + n}")
    birth_name = "MARTIN"
    first_names = "JEAN PIERRE"
    birth_year, birth_month, birth_day = 1970, 5, 12
    station_code = "29019_0001"
    number = "12"
    street = "RUE DE SIAM"
    postcode = "29200"
    town = "BREST"


class MatchModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "roll.MatchModel"

    version = factory.SubFactory(RollVersionFactory)
    campaign = factory.LazyAttribute(lambda o: o.version.campaign)
    number = factory.Sequence(lambda n: n + 1)


class RollLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "roll.RollLink"

    model = factory.SubFactory(MatchModelFactory)
    campaign = factory.LazyAttribute(lambda o: o.model.campaign)
    entry = factory.LazyAttribute(lambda o: RollEntryFactory(version=o.model.version))
    person = factory.LazyAttribute(lambda o: PersonFactory(campaign=o.campaign))
    probability = 0.8
    weight = 6.0
    status = "review"


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "segments.Segment"

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")
    document = factory.LazyFunction(lambda: {"version": 1, "filter": {"all": []}})


class SenderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "messaging.Sender"

    campaign = factory.SubFactory(CampaignFactory)
    name = "Équipe de campagne"
    email = factory.Sequence(lambda n: f"equipe{n}@campagne.example")


class TransportConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "messaging.TransportConfig"

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Transport {n}")
    kind = "sink"


class EmailTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "messaging.EmailTemplate"

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Modèle {n}")
    subject = "Bonjour"
    body = "Bonjour {{ first_name }}"


class MailingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "messaging.Mailing"

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Lettre {n}")
    sender = factory.SubFactory(SenderFactory, campaign=factory.SelfAttribute("..campaign"))
    transport = factory.SubFactory(TransportConfigFactory, campaign=factory.SelfAttribute("..campaign"))
    segment = factory.SubFactory(SegmentFactory, campaign=factory.SelfAttribute("..campaign"))
    subject = "Bonjour"
    body = "Bonjour {{ first_name }}"
    footer = "{{ sender_identity }} {{ data_source }} {{ rights_url }} {{ unsubscribe_url }}"


# --- the rest of a person's data (privacy: erasure and access tests) ------------------


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "people.Tag"

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Tag {n}")


class PostalAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "people.PostalAddress"

    person = factory.SubFactory(PersonFactory)
    number = "12"
    street = "Rue de Siam"
    postcode = "29200"
    town = "Brest"


class SocialProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "people.SocialProfile"

    person = factory.SubFactory(PersonFactory)
    network = "mastodon"
    handle = factory.Sequence(lambda n: f"@elector{n}@mastodon.example")


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "people.Note"

    person = factory.SubFactory(PersonFactory)
    text = "Rencontrée au marché, intéressée par les transports."


class ConsentEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "people.ConsentEvent"

    person = factory.SubFactory(PersonFactory)
    campaign = factory.SelfAttribute("person.campaign")
    channel = "email"
    granted = True
    source = "web_form"
    form = "Formulaire « Restons en contact »"
    wording = "J'accepte de recevoir les lettres de la campagne."
    ip = "192.0.2.10"


class DuplicateDismissalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "people.DuplicateDismissal"

    first = factory.SubFactory(PersonFactory)
    second = factory.LazyAttribute(lambda o: PersonFactory(campaign=o.first.campaign))
    campaign = factory.SelfAttribute("first.campaign")


class ImportRowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "imports.ImportRow"

    batch = factory.SubFactory(ImportBatchFactory)
    row_number = factory.Sequence(lambda n: n + 1)
    verdict = "created"


class SnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "segments.Snapshot"

    campaign = factory.SubFactory(CampaignFactory)
    purpose = "static_list"
    document = factory.LazyFunction(lambda: {"version": 1, "filter": {"all": []}})


class SnapshotMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "segments.SnapshotMember"

    snapshot = factory.SubFactory(SnapshotFactory)
    person = factory.LazyAttribute(lambda o: PersonFactory(campaign=o.snapshot.campaign))


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "messaging.Delivery"

    mailing = factory.SubFactory(MailingFactory)
    person = factory.LazyAttribute(lambda o: PersonFactory(campaign=o.mailing.campaign))
    address = factory.Sequence(lambda n: f"recipient{n}@example.org")
    status = "sent"
    sent_at = factory.LazyFunction(timezone.now)


class TrackingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "messaging.TrackingEvent"

    delivery = factory.SubFactory(DeliveryFactory)
    kind = "opened"


class RightsRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "privacy.RightsRequest"

    campaign = factory.SubFactory(CampaignFactory)
    kind = "access"
    requester_name = "Anne Le Gall"
    contact_email = factory.Sequence(lambda n: f"requester{n}@example.org")


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "engagement.Action"

    campaign = factory.SubFactory(CampaignFactory)
    kind = "signup"
    status = "open"
    title = factory.Sequence(lambda n: f"Rejoignez-nous {n}")
    slug = factory.Sequence(lambda n: f"form-{n}")
    fields = factory.LazyFunction(
        lambda: [
            {"key": "first_names", "required": True},
            {"key": "last_name", "required": False},
            {"key": "email", "required": True},
        ]
    )


class ConsentWordingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "engagement.ConsentWording"

    channel = "email"
    text = "J'accepte de recevoir les nouvelles de la campagne par email."


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "engagement.Event"

    campaign = factory.SubFactory(CampaignFactory)
    status = "open"
    title = factory.Sequence(lambda n: f"Réunion publique {n}")
    slug = factory.Sequence(lambda n: f"event-{n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=3))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    venue = "Salle Jean Moulin"
    address = "2 rue de Siam, 29200 Brest"


class RSVPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "engagement.RSVP"

    event = factory.SubFactory(EventFactory)
    campaign = factory.LazyAttribute(lambda o: o.event.campaign)
    person = factory.LazyAttribute(lambda o: PersonFactory(campaign=o.event.campaign))
    status = "going"


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "engagement.Submission"

    action = factory.SubFactory(ActionFactory)
    campaign = factory.LazyAttribute(lambda o: o.action.campaign)
    person = factory.LazyAttribute(lambda o: PersonFactory(campaign=o.action.campaign))
    status = "confirmed"


class CallToActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "engagement.CallToAction"

    campaign = factory.SubFactory(CampaignFactory)
    kind = "donate"
    status = "open"
    title = factory.Sequence(lambda n: f"Soutenez la campagne {n}")
    slug = factory.Sequence(lambda n: f"call-{n}")
    url = "https://dons.example.org/brest"


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "engagement.Response"

    call = factory.SubFactory(CallToActionFactory)
    campaign = factory.LazyAttribute(lambda o: o.call.campaign)
    kind = "commit"


class CanvassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "canvassing.Canvass"

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Porte-à-porte {n}")
    status = "active"
    turf_size = 20


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "canvassing.Question"

    canvass = factory.SubFactory(CanvassFactory)
    kind = "single"
    text = "Quel sujet compte le plus pour vous ?"
    choices = factory.LazyFunction(lambda: ["Logement", "Transports", "Écoles"])


class TurfFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "canvassing.Turf"

    canvass = factory.SubFactory(CanvassFactory)
    campaign = factory.LazyAttribute(lambda o: o.canvass.campaign)
    name = factory.Sequence(lambda n: f"Secteur {n}")


class DoorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "canvassing.Door"

    turf = factory.SubFactory(TurfFactory)
    canvass = factory.LazyAttribute(lambda o: o.turf.canvass)
    campaign = factory.LazyAttribute(lambda o: o.turf.campaign)
    street = "rue de siam"
    number = factory.Sequence(lambda n: str(n + 1))
    position = factory.Sequence(lambda n: n)


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "canvassing.Visit"

    door = factory.SubFactory(DoorFactory)
    canvass = factory.LazyAttribute(lambda o: o.door.canvass)
    campaign = factory.LazyAttribute(lambda o: o.door.campaign)
    turf = factory.LazyAttribute(lambda o: o.door.turf)
    outcome = "not_home"


class CallTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "canvassing.CallTarget"

    canvass = factory.SubFactory(CanvassFactory, kind="phone")
    campaign = factory.LazyAttribute(lambda o: o.canvass.campaign)
    person = factory.LazyAttribute(lambda o: PersonFactory(campaign=o.canvass.campaign))


# --- text messages (texting) --------------------------------------------------------------


class SmsTransportFactory(TransportConfigFactory):
    kind = "sms_file"
    settings = factory.LazyFunction(lambda: {"folder": "tests"})


class SmsMailingFactory(MailingFactory):
    channel = "sms"
    sender = None
    transport = factory.SubFactory(SmsTransportFactory, campaign=factory.SelfAttribute("..campaign"))
    subject = ""
    body = "Bonjour {{ first_name }}, réunion publique jeudi à 19h."
    footer = ""


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "texting.Conversation"

    campaign = factory.SubFactory(CampaignFactory)
    number = factory.Sequence(lambda n: f"+3361234{n:04d}")


class TextFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "texting.Text"

    conversation = factory.SubFactory(ConversationFactory)
    direction = "in"
    body = "Bonjour, où est le bureau de vote ?"
    status = "received"


class CannedAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "texting.CannedAnswer"

    campaign = factory.SubFactory(CampaignFactory)
    title = factory.Sequence(lambda n: f"Réponse {n}")
    body = "Votre bureau de vote est indiqué sur votre carte électorale."


# --- social networks ------------------------------------------------------------------------


class SocialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "social.SocialAccount"

    campaign = factory.SubFactory(CampaignFactory)
    network = "mastodon"
    name = factory.Sequence(lambda n: f"Compte {n}")
    handle = "@campagne@mastodon.example"
    server = "https://mastodon.example"


class ProfileSuggestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "social.ProfileSuggestion"

    campaign = factory.SubFactory(CampaignFactory)
    candidate = factory.LazyAttribute(lambda o: PersonFactory(campaign=o.campaign))
    network = "instagram"
    handle = factory.Sequence(lambda n: f"profil{n}")


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token with every scope; its clear key is on `.key` (set by the factory only)."""

    class Meta:
        model = "api.ApiToken"
        skip_postgeneration_save = True

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Outil {n}")
    prefix = factory.Sequence(lambda n: f"{n:012x}")
    scopes = factory.LazyFunction(lambda: list(Scope.values))
    key_hash = ""

    @factory.post_generation
    def key(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        from suffrage.api.tokens import KEY_START, key_hash

        obj.key = f"{KEY_START}{obj.prefix}_secret{obj.pk or 0}"
        obj.key_hash = key_hash(obj.key)
        if create:
            obj.save(update_fields=["key_hash"])


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "api.WebhookSubscription"

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Webhook {n}")
    url = "https://hooks.example/suffrage"
    events = factory.LazyFunction(lambda: ["person.created"])


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "api.WebhookDelivery"

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    campaign = factory.SelfAttribute("subscription.campaign")
    event = "person.created"
    payload = factory.LazyFunction(lambda: {"event": "person.created"})


# --- one of everything the REST API lists (its schema and isolation tests) -------------------


def campaign_with_everything(campaign, *, commune=None, election=None):
    """People with a tag, a segment, an event with RSVPs, a form and a petition with
    submissions, an email and an SMS mailing (sent), a canvass with visits, polling
    stations of `commune` (Brest by default) with the results of `election` there.
    Returns the objects by name. Give two campaigns different communes and elections:
    stations and results are shared data, seen by every campaign of their commune."""
    now = timezone.now()
    commune = commune or CommuneFactory()
    election = election or ElectionFactory()
    people = [PersonFactory(campaign=campaign) for _ in range(3)]
    for person in people:
        PersonEmailFactory(person=person)
    tag = TagFactory(campaign=campaign)
    people[0].tags.add(tag)
    segment = SegmentFactory(campaign=campaign)
    event = EventFactory(campaign=campaign, capacity=40)
    ConsentWordingFactory(event=event, channel="email")
    rsvp = RSVPFactory(event=event, person=people[0], checked_in_at=now)
    RSVPFactory(event=event, person=people[1], status="waitlist")
    form = ActionFactory(campaign=campaign, kind="question")
    petition = ActionFactory(campaign=campaign, kind="petition", target="Le conseil municipal", goal=100)
    submission = SubmissionFactory(action=petition, person=people[0], answers={"message": "Oui"})
    SubmissionFactory(action=form, person=people[1], status="pending")
    mailing = MailingFactory(campaign=campaign, segment=segment, status="sent", started_at=now)
    DeliveryFactory(mailing=mailing, person=people[0], clicked_at=now)
    sms = SmsMailingFactory(campaign=campaign, segment=segment, status="sent", started_at=now)
    DeliveryFactory(mailing=sms, person=people[1], address="+33612345678", parts=1)
    stations = [station_in(campaign, commune=commune) for _ in range(2)]
    round_ = RoundFactory(election=election)
    for station in stations:
        result_in(station, round_)
    canvass = CanvassFactory(campaign=campaign)
    question = QuestionFactory(canvass=canvass)
    turf = TurfFactory(canvass=canvass, station=stations[0])
    door = DoorFactory(turf=turf, station=stations[0])
    visit = VisitFactory(door=door, outcome="opened", person=people[2], answers={str(question.pk): "Logement"})
    VisitFactory(door=door, outcome="not_home")
    return {
        "people": people,
        "tag": tag,
        "segment": segment,
        "event": event,
        "rsvp": rsvp,
        "form": form,
        "petition": petition,
        "submission": submission,
        "mailing": mailing,
        "sms": sms,
        "stations": stations,
        "election": election,
        "canvass": canvass,
        "visit": visit,
    }


# --- social posts ----------------------------------------------------------------------------

SOCIAL_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24 + b"image"


class PostFactory(factory.django.DjangoModelFactory):
    """A draft post; `illustrated=True` gives it a small PNG."""

    class Meta:
        model = "social.Post"

    class Params:
        illustrated = factory.Trait(
            image=factory.django.FileField(data=SOCIAL_PNG, filename="affiche.png"), image_name="affiche.png"
        )

    campaign = factory.SubFactory(CampaignFactory)
    text = factory.Sequence(lambda n: f"Réunion publique n°{n} jeudi à 19 h, venez nombreux !")


class PublicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "social.Publication"

    post = factory.SubFactory(PostFactory)
    account = factory.LazyAttribute(lambda o: SocialAccountFactory(campaign=o.post.campaign))
    network = factory.LazyAttribute(lambda o: o.account.network)
