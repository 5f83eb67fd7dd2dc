"""Meta's Graph API for a Facebook Page: posts published on the Page, leads from its
lead ads (Facebook or Instagram), and the checks of the webhooks that announce them.

- POST /{page-id}/feed (message, link) publishes a post; POST /{page-id}/photos
  (multipart `source`, `caption`) a photo with its text
  (https://developers.facebook.com/docs/graph-api/reference/page/feed,
  https://developers.facebook.com/docs/graph-api/reference/page/photos).
- GET /{leadgen-id}?fields=… reads a lead: `field_data` is [{name, values: […]}]
  (https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving).
- Every call carries the Page access token (Authorization: Bearer) and, when the app
  secret is known, `appsecret_proof`: the hex HMAC-SHA256 of the token keyed with the
  secret (https://developers.facebook.com/docs/graph-api/securing-requests).
- Webhooks: the subscription is confirmed by echoing `hub.challenge` when
  `hub.verify_token` is ours; each notification is signed in `X-Hub-Signature-256:
  sha256=<hex HMAC-SHA256 of the raw body keyed with the app secret>`
  (https://developers.facebook.com/docs/graph-api/webhooks/getting-started); a lead is
  announced as entry[].changes[] {field: "leadgen", value: {leadgen_id, …}}
  (https://developers.facebook.com/docs/graph-api/webhooks/getting-started/webhooks-for-leadgen).

Errors are JSON {"error": {"message", "type", "code", "error_subcode"}}: code 190 is a
token expired or revoked, 4, 17, 32, 613 and 80001 are rate limits
(https://developers.facebook.com/docs/graph-api/guides/error-handling,
https://developers.facebook.com/docs/graph-api/overview/rate-limiting)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext

from suffrage.imports.normalise import InvalidValue, parse_bool, search_key
from suffrage.social.clients.http import (
    File,
    Params,
    Response,
    image_filename,
    image_type,
    now,
    parse_datetime,
    redact,
    request,
    unavailable,
    with_link,
)
from suffrage.social.exports import (
    CHECKED,
    CONSENT_CHANNELS,
    CONSENT_COLUMN,
    LEAD_COLUMNS,
    LEAD_METADATA,
    UNCHECKED,
)
from suffrage.social.records import ApiError, Published, RateLimited, SocialRecord, TokenExpired

PROVIDER = "Facebook"
CHARACTER_LIMIT = 63206
TOKEN_EXPIRED = 190
RATE_LIMIT_CODES = {4, 17, 32, 613, 80001}
LEAD_FIELDS = "created_time,field_data,form_id,ad_id,platform,custom_disclaimer_responses"

# The lead's own fields, not the form's questions.
_LEAD_OBJECT = ("external_id", "created_time", "platform")
_PERSON = tuple(field for field in LEAD_COLUMNS if field not in _LEAD_OBJECT)


def _answer(values: Any) -> str:
    if isinstance(values, list):
        return ", ".join(str(value) for value in values if value is not None)
    return "" if values is None else str(values)


def _wording(name: str) -> str:
    """A question's text from its key: Meta names custom questions after their text."""
    text = name if " " in name else name.replace("_", " ")
    return " ".join(text.split())


def _ticked(value: str, wording: str) -> bool | None:
    """Whether a consent box was ticked, by the CSV reader's rules (a blank is not
    ticked); None for an answer that is neither yes nor no."""
    key = search_key(value)
    if key in CHECKED or (key and key == search_key(wording)):
        return True
    if key in UNCHECKED:
        return False
    try:
        return bool(parse_bool(value))
    except InvalidValue:
        return None


def appsecret_proof(app_secret: str, token: str) -> str:
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


class GraphClient:
    def __init__(
        self,
        page_id: str,
        page_token: str,
        base_url: str = "https://graph.facebook.com/v21.0",
        app_secret: str = "",
    ) -> None:
        self.page_id = page_id.strip()
        self.page_token = page_token
        self.base_url = base_url.strip().rstrip("/")
        self.app_secret = app_secret

    # --- Calls ---------------------------------------------------------------------------

    def _proof(self) -> list[tuple[str, str]]:
        return [("appsecret_proof", appsecret_proof(self.app_secret, self.page_token))] if self.app_secret else []

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        form: list[tuple[str, str]] | None = None,
        files: tuple[File, ...] = (),
    ) -> dict[str, Any]:
        if not self.page_token:
            raise TokenExpired(gettext("Facebook: no Page access token is set; connect the Page again."))
        query = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        if method == "GET":
            query += self._proof()
        else:
            form = (form or []) + self._proof()
        response = request(
            method,
            self.base_url + path,
            provider=PROVIDER,
            params=query,
            form=form,
            files=files,
            headers={"Authorization": f"Bearer {self.page_token}"},
        )
        data = response.json()
        if response.ok and isinstance(data, dict) and "error" not in data:
            return data
        raise self._error(response)

    def _error(self, response: Response) -> ApiError:
        error = response.object().get("error")
        error = error if isinstance(error, dict) else {}
        try:
            code: int | None = int(str(error.get("code")))
        except (TypeError, ValueError):
            code = None
        message = redact(str(error.get("error_user_msg") or error.get("message") or ""), self.page_token)
        if code == TOKEN_EXPIRED:
            return TokenExpired(
                gettext("Facebook: the Page access token is expired or revoked; connect the Page again.")
            )
        if response.status == 429 or code in RATE_LIMIT_CODES:
            return RateLimited(
                gettext("Facebook: too many requests for this Page or app; wait before trying again."),
                retry_at=_regain_access(response.header("X-Business-Use-Case-Usage")),
            )
        if response.status >= 500 or code in (1, 2) or not error:  # Meta's "temporary" errors
            return unavailable(PROVIDER, response.status)
        return ApiError(
            gettext("Facebook: %(message)s (code %(code)s)") % {"message": message or "—", "code": code or "?"}
        )

    # --- Publishing ----------------------------------------------------------------------

    def publish(
        self,
        text: str,
        *,
        link: str = "",
        image: bytes | None = None,
        image_name: str = "",
        image_alt: str = "",
        idempotency_key: str = "",
    ) -> Published:
        """Publish on the Page: a post with `text` and a preview of `link`, or a photo
        with the text (and the link) as caption. (`idempotency_key` is accepted for a
        call like Mastodon's; the Graph API has no such key.)"""
        page = urllib.parse.quote(self.page_id, safe="")
        if image:
            kind = image_type(image, image_name)
            fields = [("caption", with_link(text, link))]
            if image_alt:
                fields.append(("alt_text_custom", image_alt))
            source = File("source", image_filename(image_name, kind), image, kind)
            data = self._call("POST", f"/{page}/photos", form=fields, files=(source,))
            remote_id = str(data.get("post_id") or data.get("id") or "")
        else:
            fields = [("message", text.strip())] + ([("link", link.strip())] if link.strip() else [])
            data = self._call("POST", f"/{page}/feed", form=fields)
            remote_id = str(data.get("id") or "")
        if not remote_id:
            raise unavailable(PROVIDER, 200)
        return Published(remote_id=remote_id, url=f"https://www.facebook.com/{remote_id}")

    def verify(self) -> str:
        """The Page's name, read with the token (TokenExpired when it is not valid)."""
        data = self._call("GET", f"/{urllib.parse.quote(self.page_id, safe='')}", params={"fields": "name"})
        return str(data.get("name") or "")

    # --- Leads ---------------------------------------------------------------------------

    def lead(self, leadgen_id: str) -> SocialRecord:
        """A lead, its answers in our fields; consent-looking questions become consents
        when their answer says yes or no, other questions answers."""
        data = self._call("GET", f"/{urllib.parse.quote(str(leadgen_id), safe='')}", params={"fields": LEAD_FIELDS})
        return lead_record(data, str(leadgen_id))


def lead_record(data: Mapping[str, Any], leadgen_id: str = "", row: int = 1) -> SocialRecord:
    """A lead as the Graph API gives it, read by the rules of the lead form CSV reader
    (suffrage.social.exports): the same keys for the person's fields, in French or
    English; questions that look like consent are consents, per channel they name (or,
    naming none, for the email and phone the lead gave), with their text as wording;
    the other questions are answers. Values are as typed (not normalised)."""
    questions: list[tuple[str, str]] = []  # (key, answer)
    field_data = data.get("field_data")
    for item in field_data if isinstance(field_data, list) else []:
        if isinstance(item, dict) and item.get("name"):
            questions.append((str(item["name"]), _answer(item.get("values")).strip()))
    boxes: list[tuple[str, str]] = []  # custom disclaimer checkboxes: (key, "1" or "0")
    disclaimers = data.get("custom_disclaimer_responses")
    for item in disclaimers if isinstance(disclaimers, list) else []:
        if isinstance(item, dict) and item.get("checkbox_key"):
            checked = search_key(str(item.get("is_checked", ""))) in ("1", "true", "yes")
            boxes.append((str(item["checkbox_key"]), "1" if checked else "0"))

    keys = [search_key(name) for name, _value in questions]
    values: dict[str, str] = {}
    taken: set[int] = set()
    for field in _PERSON:  # the first alias found wins, as in the CSV reader
        index = next((keys.index(alias) for alias in LEAD_COLUMNS[field] if alias in keys), None)
        if index is not None:
            values[field] = questions[index][1]
            taken.add(index)
    consent_items: list[tuple[str, str, tuple[str, ...]]] = []  # (key, answer, channels)
    answers: dict[str, str] = {}
    for index, (name, answer) in enumerate(questions + boxes):
        key = search_key(name)
        if index in taken or not key or key in LEAD_METADATA:
            continue
        if CONSENT_COLUMN.search(key):
            channels = tuple(channel for channel, words in CONSENT_CHANNELS if words.search(key))
            consent_items.append((name, answer, channels))
        elif answer:
            answers[name] = answer

    email, phone = values.get("email", ""), values.get("phone", "")
    generic = (("email",) if email else ()) + (("sms",) if phone else ())
    consents: dict[str, bool] = {}
    for name, answer, channels in consent_items:
        given = _ticked(answer, _wording(name))
        if given is None:  # neither yes nor no: kept as an answer, no consent recorded
            answers[name] = answer
            continue
        for channel in channels or generic:
            consents[channel] = consents.get(channel, False) or given
    first_name, last_name = values.get("first_name", ""), values.get("last_name", "")
    platform = search_key(str(data.get("platform") or ""))
    return SocialRecord(
        network="instagram" if platform in ("ig", "instagram") else "facebook",
        row=row,
        external_id=str(data.get("id") or leadgen_id),
        display_name=values.get("full_name", "") or " ".join(part for part in (first_name, last_name) if part),
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        town=values.get("town", ""),
        postcode=values.get("postcode", ""),
        consents=consents,
        consent_wording="\n".join(_wording(name) for name, _value, _channels in consent_items) if consents else "",
        answers=answers,
        collected_at=parse_datetime(data.get("created_time")),
    )


def _regain_access(header: str) -> datetime.datetime | None:
    """When the Page may call again, from X-Business-Use-Case-Usage:
    {"<id>": [{"type": "pages", "estimated_time_to_regain_access": <minutes>, …}]}."""
    try:
        usage = json.loads(header) if header else None
    except ValueError:
        return None
    minutes = 0
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    try:
                        minutes = max(minutes, int(entry.get("estimated_time_to_regain_access") or 0))
                    except (TypeError, ValueError):
                        continue
    return now() + datetime.timedelta(minutes=minutes) if minutes > 0 else None


# --- Webhooks --------------------------------------------------------------------------------


def webhook_verify_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The `hub.challenge` to echo when Meta confirms the subscription with our verify
    token (compared in constant time), else None."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    given = str(params.get("hub.verify_token") or "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    challenge = params.get("hub.challenge")
    return str(challenge) if challenge is not None else None


def webhook_signature_ok(app_secret: str, body: bytes, header: str) -> bool:
    """True when `X-Hub-Signature-256` is "sha256=" and the hex HMAC-SHA256 of the raw
    body keyed with the app secret (compared in constant time)."""
    if not app_secret or not header:
        return False
    scheme, _equals, given = header.strip().partition("=")
    if scheme.lower() != "sha256" or not given:
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.strip().lower().encode(), expected.encode())


def leadgen_ids(payload: Any) -> list[str]:
    """The leads a webhook notification announces (entry[].changes[] whose field is
    "leadgen"), each once, in order."""
    found: list[str] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            if not isinstance(change, dict) or change.get("field") != "leadgen":
                continue
            value = change.get("value")
            leadgen_id = value.get("leadgen_id") if isinstance(value, dict) else None
            if leadgen_id is None or isinstance(leadgen_id, bool | dict | list):
                continue
            text = str(leadgen_id).strip()
            if text and text not in found:
                found.append(text)
    return found
