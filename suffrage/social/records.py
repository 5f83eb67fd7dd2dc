"""What the social-network readers hand the rest of the app: one record per lead or
follower, in our terms, whatever the platform's format; and the problems found on the
way, each naming the row (or item) and the field."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SocialRecord:
    """A lead or a follower as a platform gave it."""

    network: str  # "facebook", "instagram", "x", "linkedin", "mastodon", "bluesky"
    row: int  # 1-based position in the export or the API's listing (for messages)
    handle: str = ""  # "@alice@mastodon.social", "alice.bsky.social", "alice"
    url: str = ""  # the profile's address
    external_id: str = ""  # the platform's id of the account, or of the lead
    display_name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    town: str = ""
    postcode: str = ""
    # Lead forms: consent the person gave on the platform, per channel ("email",
    # "sms", "phone", "post"), with the wording shown to them when the export has it.
    consents: dict[str, bool] = field(default_factory=dict)
    consent_wording: str = ""
    answers: dict[str, str] = field(default_factory=dict)  # a lead form's other questions
    collected_at: datetime.datetime | None = None  # when they followed, connected or answered


@dataclass(frozen=True)
class RowProblem:
    row: int
    field: str
    message: str


@dataclass
class ParseResult:
    records: list[SocialRecord] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


class ExportError(ValueError):
    """The whole file cannot be read as this kind of export (str() says why, for the user)."""


class ApiError(Exception):
    """A platform refused a call (str() says why, without any token)."""


class TokenExpired(ApiError):
    """The access token is expired or revoked: the account must be connected again."""


class RateLimited(ApiError):
    """The platform asks to wait; `retry_at` is when to try again (UTC), when it says."""

    def __init__(self, message: str, retry_at: datetime.datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


@dataclass(frozen=True)
class Published:
    """A post as a platform published it."""

    remote_id: str
    url: str = ""
