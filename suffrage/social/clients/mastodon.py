"""Mastodon's REST API (https://docs.joinmastodon.org/methods/): an account's followers,
a status published with an image, and the check of an access token.

- GET /api/v1/accounts/lookup?acct=… finds the account; GET /api/v1/accounts/:id/followers
  lists its followers, 80 at most a page, older pages named by the `Link: <…max_id=…>;
  rel="next"` header (https://docs.joinmastodon.org/api/guidelines/#pagination).
- POST /api/v2/media uploads an image (multipart `file`, `description` its alternative
  text); 202 means it is still being processed: GET /api/v1/media/:id answers 206 until
  it is ready (200). POST /api/v1/statuses publishes (`status`, `media_ids[]`), once per
  `Idempotency-Key`.
- GET /api/v1/accounts/verify_credentials names the token's account.

Errors are JSON `{"error": "…"}`: 401 (or 403 "The access token is invalid") is a token
to replace, 422 a status refused (too long…), 429 a rate limit lifted at the ISO 8601
time in `X-RateLimit-Reset` (https://docs.joinmastodon.org/api/rate-limits/)."""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext

from suffrage.social.clients.http import (
    MAX_PAGES,
    File,
    Params,
    Response,
    graphemes,
    image_filename,
    image_type,
    links,
    parse_datetime,
    redact,
    request,
    unavailable,
    url_spans,
    with_link,
)
from suffrage.social.records import ApiError, Published, RateLimited, SocialRecord, TokenExpired

PROVIDER = "Mastodon"
CHARACTER_LIMIT = 500  # the default; an instance may allow more
URL_LENGTH = 23  # every address counts as 23 characters, whatever its length
PAGE_SIZE = 80  # the most the followers listing gives a page
# A remote mention counts by its username only: "@alice@mastodon.social" is "@alice".
_MENTION = re.compile(r"(?<![\w/@=])@(\w+(?:[.\-]+\w+)*)@[\w.\-]+\w", re.IGNORECASE)
_TOKEN_WORDS = ("access token is invalid", "access token was revoked", "revoked")


def mastodon_length(text: str) -> int:
    """The length Mastodon checks against its limit: grapheme clusters, each http(s)
    address counting 23, each remote mention its username only."""
    countable: list[str] = []
    last = 0
    for start, end, _url in url_spans(text):
        countable.append(_MENTION.sub(r"@\1", text[last:start]))
        countable.append("x" * URL_LENGTH)
        last = end
    countable.append(_MENTION.sub(r"@\1", text[last:]))
    return graphemes("".join(countable))


class MastodonClient:
    media_poll_interval = 1.0  # seconds between two looks at an image being processed
    media_poll_attempts = 30
    max_pages = MAX_PAGES

    def __init__(self, base_url: str, token: str = "") -> None:
        self.base_url = base_url.strip().rstrip("/")
        if "://" not in self.base_url and self.base_url:
            self.base_url = "https://" + self.base_url
        self.token = token
        self.host = urllib.parse.urlsplit(self.base_url).hostname or ""

    # --- Calls ---------------------------------------------------------------------------

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        form: Params | None = None,
        files: tuple[File, ...] = (),
        headers: dict[str, str] | None = None,
    ) -> Response:
        response = request(
            method,
            self.base_url + path,
            provider=PROVIDER,
            params=params,
            form=form,
            files=files,
            headers=self._headers(headers),
        )
        if response.ok:
            return response
        raise self._error(response)

    def _error(self, response: Response) -> ApiError:
        data = response.object()
        said = redact(str(data.get("error") or data.get("error_description") or ""), self.token)
        status = response.status
        if status == 401 or (status == 403 and any(word in said.lower() for word in _TOKEN_WORDS)):
            return TokenExpired(gettext("Mastodon: the access token is invalid or revoked; connect the account again."))
        if status == 429:
            return RateLimited(
                gettext("Mastodon: too many requests; wait before trying again."),
                retry_at=parse_datetime(response.header("X-RateLimit-Reset")),
            )
        if status >= 500:
            return unavailable(PROVIDER, status)
        if status == 422:
            return ApiError(gettext("Mastodon refused the post: %(error)s") % {"error": said or status})
        return ApiError(gettext("Mastodon: %(error)s (HTTP %(status)s)") % {"error": said or "—", "status": status})

    def _object(self, response: Response) -> dict[str, Any]:
        data = response.json()
        if not isinstance(data, dict):
            raise unavailable(PROVIDER, response.status)
        return data

    # --- Followers -----------------------------------------------------------------------

    def handle(self, account: dict[str, Any]) -> str:
        """ "@user@instance": local accounts' `acct` has no domain, this instance's is added."""
        acct = str(account.get("acct") or account.get("username") or "").lstrip("@")
        if not acct:
            return ""
        return f"@{acct}" if "@" in acct else f"@{acct}@{self.host}"

    def lookup(self, acct: str) -> dict[str, Any]:
        """The account named `acct` ("brest2027", "@brest2027@mastodon.social")."""
        name = acct.strip().lstrip("@")
        if not name:
            raise ApiError(gettext("Mastodon: which account? The handle is empty."))
        return self._object(self._call("GET", "/api/v1/accounts/lookup", params={"acct": name}))

    def followers(self, acct: str, limit: int | None = None) -> Iterator[SocialRecord]:
        """The account's followers, newest first, at most `limit`."""
        account_id = str(self.lookup(acct).get("id") or "")
        if not account_id:
            raise unavailable(PROVIDER, 200)
        path = f"/api/v1/accounts/{urllib.parse.quote(account_id, safe='')}/followers"
        row = 0
        max_id = ""
        seen: set[str] = set()
        for _page in range(self.max_pages):
            if limit is not None and row >= limit:
                return
            size = PAGE_SIZE if limit is None else max(1, min(PAGE_SIZE, limit - row))
            params = [("limit", str(size))] + ([("max_id", max_id)] if max_id else [])
            response = self._call("GET", path, params=params)
            accounts = response.json()
            if not isinstance(accounts, list) or not accounts:
                return
            for account in accounts:
                if not isinstance(account, dict):
                    continue
                if limit is not None and row >= limit:
                    return
                row += 1
                yield SocialRecord(
                    network="mastodon",
                    row=row,
                    handle=self.handle(account),
                    url=str(account.get("url") or ""),
                    external_id=str(account.get("id") or ""),
                    display_name=str(account.get("display_name") or ""),
                    collected_at=None,
                )
            following = links(response.header("Link")).get("next", "")
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(following).query)
            max_id = (query.get("max_id") or [""])[0]
            # The next page is asked of this instance, by max_id only: the token never
            # follows an address the server gave. The same max_id twice ends the listing.
            if not max_id or max_id in seen:
                return
            seen.add(max_id)

    # --- Publishing ----------------------------------------------------------------------

    def upload(self, image: bytes, image_name: str = "", image_alt: str = "") -> str:
        """Upload an image; its media id once Mastodon has processed it."""
        kind = image_type(image, image_name)
        name = image_filename(image_name, kind)
        form = [("description", image_alt)] if image_alt else []
        response = self._call("POST", "/api/v2/media", form=form, files=(File("file", name, image, kind),))
        media_id = str(self._object(response).get("id") or "")
        if not media_id:
            raise unavailable(PROVIDER, response.status)
        if response.status != 202:
            return media_id
        for _attempt in range(self.media_poll_attempts):
            time.sleep(self.media_poll_interval)
            polled = self._call("GET", f"/api/v1/media/{urllib.parse.quote(media_id, safe='')}")
            if polled.status == 200:
                return media_id
        raise ApiError(gettext("Mastodon is still processing the image: try again in a few minutes."))

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
        """Publish a public status: `text`, then `link` unless the text has it, and the
        image. The same `idempotency_key` within an hour publishes once."""
        form: list[tuple[str, str]] = [("status", with_link(text, link))]
        if image:
            form.append(("media_ids[]", self.upload(image, image_name, image_alt)))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        status = self._object(self._call("POST", "/api/v1/statuses", form=form, headers=headers))
        remote_id = str(status.get("id") or "")
        if not remote_id:
            raise unavailable(PROVIDER, 200)
        return Published(remote_id=remote_id, url=str(status.get("url") or status.get("uri") or ""))

    def verify(self) -> str:
        """The token's account (`acct`, "brest2027" on its own instance); TokenExpired
        when the token is not valid."""
        if not self.token:
            raise TokenExpired(gettext("Mastodon: no access token is set."))
        account = self._object(self._call("GET", "/api/v1/accounts/verify_credentials"))
        return str(account.get("acct") or account.get("username") or "")
