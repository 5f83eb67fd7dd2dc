"""REST endpoints: forms and petitions (both `engagement.Action`, told apart by their
kind) and their submissions or signatures. Read only, with `engagement:read`; new
submissions come through the public pages, the embeds and the JSON signup endpoint.

A submission shows what the person answered and ticked; never the confirmation secret
nor the IP address kept as consent proof."""

# No `from __future__ import annotations`: see events.py (Ninja and `@paginate`).

import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from suffrage.api.rest.common import NO_NUL, Page, campaign_of, get_or_404, ordered, responses, scoped, utc
from suffrage.api.rest.events import WordingOut
from suffrage.api.scopes import Scope
from suffrage.engagement.models import Action, ConsentWording, Submission
from suffrage.engagement.selectors import conversion, page_key, submission_counts, views_by_page, wording_history

router = Router(tags=["actions"])

READ = scoped(Scope.ENGAGEMENT_READ)

ActionKind = Literal["signup", "volunteer", "question", "contact", "petition"]
ActionStatus = Literal["draft", "open", "closed"]
SubmissionStatus = Literal["pending", "confirmed"]

ACTION_SORTS = {"created_at": "created_at", "updated_at": "updated_at", "title": "title"}
SUBMISSION_SORTS = {"created_at": "created_at", "confirmed_at": "confirmed_at"}


class ActionFieldOut(Schema):
    key: str = Field(description="first_names, last_name, email, phone, … or custom:<key> for a custom field.")
    required: bool = False
    label: str = Field("", description="The label shown instead of the default one, if any.")


class ActionOut(Schema):
    id: int
    kind: ActionKind = Field(description="petition, or the kind of form: signup, volunteer, question, contact.")
    is_petition: bool
    status: ActionStatus
    title: str
    slug: str
    description: str = Field(description="Markdown.")
    fields: list[ActionFieldOut] = Field(description="What the form asks, in order.")
    double_opt_in: bool = Field(description="Consent counts once the person confirmed by email.")
    target: str = Field(description="Petitions: to whom it is addressed.")
    goal: int | None = Field(description="Petitions: the signature goal.")
    created_at: datetime.datetime
    updated_at: datetime.datetime
    submitted: int = Field(description="Submissions or signatures, confirmed or not.")
    confirmed: int = Field(description="Confirmed ones (a petition's signatures).")
    pending: int = Field(description="Waiting for the email confirmation.")

    @staticmethod
    def resolve_fields(obj: Action) -> list[dict[str, Any]]:
        return [item for item in obj.fields if isinstance(item, dict) and isinstance(item.get("key"), str)]


class ActionDetailOut(ActionOut):
    views: int = Field(description="Views of the public page.")
    conversion: float | None = Field(description="Submissions per 100 page views (null without views).")
    wordings: list[WordingOut] = Field(description="Every version of the consent boxes, the newest first.")

    @staticmethod
    def resolve_wordings(obj: Action) -> list[ConsentWording]:
        return wording_history(obj)


class SubmissionOut(Schema):
    id: int
    action_id: int
    person_id: int
    status: SubmissionStatus
    answers: dict[str, Any] = Field(description="Answers that are not person fields (a question's message).")
    consents: dict[str, int] = Field(
        description="Consent boxes ticked: channel → id of the exact wording shown (see the form's wordings)."
    )
    show_name: bool = Field(description="Petitions: the signer agreed to appear among the signers.")
    via: str = Field(description="page, embed or api.")
    created_at: datetime.datetime
    confirmed_at: datetime.datetime | None


class ActionFilters(Schema):
    kind: Literal["form", "petition", "signup", "volunteer", "question", "contact"] | None = Field(
        None, description="form: every kind but petitions; or one kind."
    )
    status: ActionStatus | None = None
    sort: str | None = Field(None, description="created_at, updated_at or title; a leading “-” sorts descending.")


class SubmissionFilters(Schema):
    status: SubmissionStatus | None = None
    via: str | None = Field(None, max_length=20, pattern=NO_NUL, description="page, embed or api.")
    since: datetime.datetime | None = Field(None, description="Submitted at or after this time (ISO 8601).")
    sort: str | None = Field(None, description="created_at or confirmed_at; a leading “-” sorts descending.")


def _actions(request: HttpRequest) -> QuerySet[Action]:
    return Action.objects.filter(campaign=campaign_of(request)).annotate(**submission_counts())


def _action(request: HttpRequest, action_id: int) -> Action:
    return get_or_404(_actions(request), pk=action_id)


@router.get("", auth=READ, response=responses(list[ActionOut]), url_name="api-actions")
@paginate(Page)
def action_list(request: HttpRequest, filters: Query[ActionFilters]) -> QuerySet[Action]:
    """The campaign's forms and petitions with their submission counts."""
    actions = _actions(request)
    if filters.kind == "form":
        actions = actions.exclude(kind=Action.Kind.PETITION)
    elif filters.kind:
        actions = actions.filter(kind=filters.kind)
    if filters.status:
        actions = actions.filter(status=filters.status)
    return ordered(actions, filters.sort, ACTION_SORTS)


@router.get("/{action_id}", auth=READ, response=responses(ActionDetailOut), url_name="api-action")
def action_detail(request: HttpRequest, action_id: int) -> Action:
    """One form or petition: its counts, page views, conversion and consent wordings."""
    action = _action(request, action_id)
    action.views = views_by_page(action.campaign, [page_key(action)]).get(page_key(action), 0)  # type: ignore[attr-defined]
    action.conversion = conversion(action.submitted, action.views)  # type: ignore[attr-defined]
    return action


@router.get(
    "/{action_id}/submissions", auth=READ, response=responses(list[SubmissionOut]), url_name="api-action-submissions"
)
@paginate(Page)
def submission_list(request: HttpRequest, action_id: int, filters: Query[SubmissionFilters]) -> QuerySet[Submission]:
    """The form's submissions or the petition's signatures."""
    submissions = Submission.objects.filter(action=_action(request, action_id))
    if filters.status:
        submissions = submissions.filter(status=filters.status)
    if filters.via:
        submissions = submissions.filter(via=filters.via)
    if filters.since:
        submissions = submissions.filter(created_at__gte=utc(filters.since, "query.since"))
    return ordered(submissions, filters.sort, SUBMISSION_SORTS)


@router.get(
    "/{action_id}/submissions/{submission_id}",
    auth=READ,
    response=responses(SubmissionOut),
    url_name="api-action-submission",
)
def submission_detail(request: HttpRequest, action_id: int, submission_id: int) -> Submission:
    return get_or_404(Submission.objects.filter(action=_action(request, action_id)), pk=submission_id)
