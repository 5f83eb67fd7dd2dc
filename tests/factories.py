"""factory_boy factories for the core models. Later apps add theirs beside these."""

import datetime

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

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
