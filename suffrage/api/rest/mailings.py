"""REST endpoints: mailings, by email or SMS (`channel`), and their reports. Read only,
with `mailings:read`. The report gives the same figures as the mailing's page (the
same selectors): counts, never who received, opened or clicked."""

# No `from __future__ import annotations`: see events.py (Ninja and `@paginate`).

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from suffrage.api.rest.common import Page, campaign_of, get_or_404, ordered, responses, scoped
from suffrage.api.scopes import Scope
from suffrage.messaging import selectors
from suffrage.messaging.models import Mailing
from suffrage.messaging.services import ab_results
from suffrage.texting.selectors import sms_report

router = Router(tags=["mailings"])

READ = scoped(Scope.MAILINGS_READ)

MailingChannel = Literal["email", "sms"]
MailingStatus = Literal["draft", "scheduled", "sending", "testing", "paused", "cancelled", "sent"]

MAILING_SORTS = {"created_at": "created_at", "started_at": "started_at", "name": "name"}


class MailingOut(Schema):
    id: int
    channel: MailingChannel
    name: str
    status: MailingStatus
    status_reason: str
    subject: str = Field(description="Emails: the subject (the first one of an A/B test).")
    subject_b: str = Field(description="Emails: the second subject of an A/B test, if any.")
    ab_winner: str = Field(description="The A/B test's winning subject (a or b), once chosen.")
    segment_id: int | None
    scheduled_at: datetime.datetime | None
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


class MailingDetailOut(MailingOut):
    preheader: str
    body: str = Field(description="Markdown with personalisation placeholders (an SMS: its text).")
    audience: dict[str, int] = Field(
        description="Who it was for when sending started: in_segment, will_receive and the reasons others will not."
    )

    @staticmethod
    def resolve_audience(obj: Mailing) -> dict[str, int]:
        counts = (obj.audience or {}).items()
        return {key: value for key, value in counts if isinstance(value, int) and not isinstance(value, bool)}


class LinkClicksOut(Schema):
    position: int
    url: str
    clicks: int


class StationReachOut(Schema):
    code: str
    name: str
    recipients: int
    clicked: int


class VariantOut(Schema):
    variant: str
    sent: int
    clicked: int
    opened: int


class FailureOut(Schema):
    reason: str
    count: int


class SmsFiguresOut(Schema):
    replied: int
    asked: int = Field(description="Consent requests sent (to numbers without SMS consent).")
    agreed: int = Field(description="People who agreed by replying.")
    parts: int = Field(description="Message parts sent.")
    cost: str | None = Field(
        description=(
            "Euros: parts × the transport’s price per part, as a decimal text such as “12.40” (null without a price)."
        )
    )

    @staticmethod
    def resolve_cost(obj: dict[str, Any]) -> str | None:
        cost: Decimal | None = obj["cost"]
        return None if cost is None else str(cost)

    failures: list[FailureOut]


class MailingReportOut(Schema):
    id: int
    channel: MailingChannel
    status: MailingStatus
    targeted: int
    sent: int
    failed: int
    pending: int
    cancelled: int
    delivered: int = Field(description="As reported by the provider.")
    bounced: int
    opened: int = Field(description="Emails, when open tracking is on.")
    clicked: int
    unsubscribed: int
    complained: int = Field(description="Reported as spam.")
    progress: int = Field(description="Percentage of the audience dealt with (sent, failed or cancelled).")
    click_rate: float | None = Field(description="Clicked per 100 sent.")
    unsubscribe_rate: float | None = Field(description="Unsubscribed per 100 sent.")
    links: list[LinkClicksOut] = Field(description="Emails: clicks per link, once sending started.")
    stations: list[StationReachOut] = Field(
        description="Emails: recipients and clickers per polling station of their address, once sending started."
    )
    ab_test: list[VariantOut] = Field(description="Emails: each subject's figures in an A/B test.")
    sms: SmsFiguresOut | None = Field(description="Text messages only, once sending started.")


class MailingFilters(Schema):
    channel: MailingChannel | None = None
    status: MailingStatus | None = None
    sort: str | None = Field(None, description="created_at, started_at or name; a leading “-” sorts descending.")


def _mailings(request: HttpRequest) -> QuerySet[Mailing]:
    return Mailing.objects.filter(campaign=campaign_of(request))


@router.get("", auth=READ, response=responses(list[MailingOut]), url_name="api-mailings")
@paginate(Page)
def mailing_list(request: HttpRequest, filters: Query[MailingFilters]) -> QuerySet[Mailing]:
    """The campaign's mailings, email and SMS."""
    mailings = _mailings(request)
    if filters.channel:
        mailings = mailings.filter(channel=filters.channel)
    if filters.status:
        mailings = mailings.filter(status=filters.status)
    return ordered(mailings, filters.sort, MAILING_SORTS)


@router.get("/{mailing_id}", auth=READ, response=responses(MailingDetailOut), url_name="api-mailing")
def mailing_detail(request: HttpRequest, mailing_id: int) -> Mailing:
    return get_or_404(_mailings(request), pk=mailing_id)


def report(mailing: Mailing) -> dict[str, Any]:
    """The figures of the mailing's page: `mailing_numbers`, the progress, the list's
    rates; for an email once started, the clicks per link, the polling stations and the
    A/B test; for a text message once started, `sms_report`."""
    numbers = selectors.mailing_numbers(mailing)
    started = mailing.started_at is not None
    email = mailing.channel == Mailing.Channel.EMAIL
    figures: dict[str, Any] = {
        "id": mailing.pk,
        "channel": mailing.channel,
        "status": mailing.status,
        **numbers,
        "progress": selectors.progress(numbers),
        "click_rate": selectors.rate(numbers["clicked"], numbers["sent"]),
        "unsubscribe_rate": selectors.rate(numbers["unsubscribed"], numbers["sent"]),
        "links": selectors.link_clicks(mailing) if started and email else [],
        "stations": [
            {
                "code": row["polling_station__code"],
                "name": row["polling_station__name"],
                "recipients": row["recipients"],
                "clicked": row["clicked"],
            }
            for row in (selectors.by_station(mailing) if started and email else [])
        ],
        "ab_test": [
            {"variant": variant, **row}
            for variant, row in sorted((ab_results(mailing) if started and email and mailing.subject_b else {}).items())
        ],
        "sms": None,
    }
    if started and not email:
        figures["sms"] = sms_report(mailing)
    return figures


@router.get("/{mailing_id}/report", auth=READ, response=responses(MailingReportOut), url_name="api-mailing-report")
def mailing_report(request: HttpRequest, mailing_id: int) -> dict[str, Any]:
    """The mailing's report, as its page shows it."""
    return report(get_or_404(_mailings(request), pk=mailing_id))
