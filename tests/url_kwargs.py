"""How the generic access test makes an object for each campaign-scoped URL argument.

When a new view takes a new URL argument (say `person_id`), add a line here that
creates such an object in the given campaign and returns its id; the access test
then checks that another campaign's object is a 404 in that view.
"""

from collections.abc import Callable

from suffrage.core.models import Campaign
from tests import factories

# Arguments that name no campaign object (a format, an action): nothing to isolate.
NOT_OBJECTS = frozenset({"kind", "action", "fmt"})

OBJECT_FACTORIES: dict[str, Callable[[Campaign], int | str]] = {
    "membership_id": lambda campaign: factories.MembershipFactory(campaign=campaign).pk,
    "invitation_id": lambda campaign: factories.InvitationFactory(campaign=campaign).pk,
    "election_id": lambda campaign: factories.CalendarElectionFactory(campaign=campaign).pk,
    "job_id": lambda campaign: factories.JobFactory(campaign=campaign).pk,
    "person_id": lambda campaign: factories.PersonFactory(campaign=campaign).pk,
    "other_id": lambda campaign: factories.PersonFactory(campaign=campaign).pk,
    "field_id": lambda campaign: factories.CustomFieldFactory(campaign=campaign).pk,
    "tag_id": lambda campaign: factories.TagFactory(campaign=campaign).pk,
    "batch_id": lambda campaign: factories.ImportBatchFactory(campaign=campaign).pk,
    "station_code": lambda campaign: factories.station_in(campaign).code,
    "ranking_id": lambda campaign: factories.PriorityRankingFactory(campaign=campaign).pk,
    "bloc_id": lambda campaign: factories.BlocFactory(campaign=campaign).pk,
    "version_id": lambda campaign: factories.RollVersionFactory(campaign=campaign).pk,
    "model_id": lambda campaign: factories.MatchModelFactory(version__campaign=campaign).pk,
    "link_id": lambda campaign: factories.RollLinkFactory(model__version__campaign=campaign).pk,
    "kind": lambda campaign: "new",
    "segment_id": lambda campaign: factories.SegmentFactory(campaign=campaign).pk,
    "mailing_id": lambda campaign: factories.MailingFactory(campaign=campaign).pk,
    "action": lambda campaign: "cancel",
    "template_id": lambda campaign: factories.EmailTemplateFactory(campaign=campaign).pk,
    "sender_id": lambda campaign: factories.SenderFactory(campaign=campaign).pk,
    "transport_id": lambda campaign: factories.TransportConfigFactory(campaign=campaign).pk,
    "request_id": lambda campaign: factories.RightsRequestFactory(campaign=campaign).pk,
    "fmt": lambda campaign: "html",
    "action_id": lambda campaign: factories.ActionFactory(campaign=campaign).pk,
    "submission_id": lambda campaign: factories.SubmissionFactory(action__campaign=campaign).pk,
    "event_id": lambda campaign: factories.EventFactory(campaign=campaign).pk,
    "call_id": lambda campaign: factories.CallToActionFactory(campaign=campaign).pk,
    "rsvp_id": lambda campaign: factories.RSVPFactory(event__campaign=campaign).pk,
    "token": lambda campaign: factories.RSVPFactory(event__campaign=campaign).token,
    "canvass_id": lambda campaign: factories.CanvassFactory(campaign=campaign).pk,
    "question_id": lambda campaign: factories.QuestionFactory(canvass__campaign=campaign).pk,
    "turf_id": lambda campaign: factories.TurfFactory(canvass__campaign=campaign).pk,
    "door_id": lambda campaign: factories.DoorFactory(turf__canvass__campaign=campaign).pk,
    "visit_id": lambda campaign: factories.VisitFactory(door__turf__canvass__campaign=campaign).pk,
    "target_id": lambda campaign: factories.CallTargetFactory(canvass__campaign=campaign).pk,
    "sms_id": lambda campaign: factories.SmsMailingFactory(campaign=campaign).pk,
    "conversation_id": lambda campaign: factories.ConversationFactory(campaign=campaign).pk,
    "answer_id": lambda campaign: factories.CannedAnswerFactory(campaign=campaign).pk,
    "account_id": lambda campaign: factories.SocialAccountFactory(campaign=campaign).pk,
    "suggestion_id": lambda campaign: factories.ProfileSuggestionFactory(campaign=campaign).pk,
    "post_id": lambda campaign: factories.PostFactory(campaign=campaign, illustrated=True).pk,
    "token_id": lambda campaign: factories.ApiTokenFactory(campaign=campaign).pk,
    "subscription_id": lambda campaign: factories.WebhookSubscriptionFactory(campaign=campaign).pk,
    "delivery_id": lambda campaign: factories.WebhookDeliveryFactory(subscription__campaign=campaign).pk,
}
