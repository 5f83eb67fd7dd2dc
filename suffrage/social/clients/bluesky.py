"""Bluesky over the AT Protocol's XRPC calls (https://docs.bsky.app/docs/category/http-reference):
an account's followers from the public AppView, and a post published with an app
password.

- GET {appview}/xrpc/app.bsky.graph.getFollowers?actor=…&limit=100&cursor=… needs no
  authentication; the answer's `cursor` names the next page.
- POST {service}/xrpc/com.atproto.server.createSession {identifier, password} opens a
  session (accessJwt, refreshJwt, did, handle); an access token that expired is
  answered 400 {"error": "ExpiredToken"}: com.atproto.server.refreshSession with the
  refresh token gives new ones, once, and the call is made again.
- com.atproto.repo.uploadBlob takes the image's raw bytes; com.atproto.repo.createRecord
  writes the `app.bsky.feed.post` record: its text, links and hashtags as facets
  addressed in UTF-8 bytes (https://docs.bsky.app/docs/advanced-guides/post-richtext),
  and the image or a link card as embed (https://docs.bsky.app/docs/advanced-guides/posts).

Errors are JSON {"error": "Name", "message": "…"}; a rate limit (429) is lifted at the
Unix time in the `ratelimit-reset` header
(https://docs.bsky.app/docs/advanced-guides/rate-limits)."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext

from suffrage.social.clients.http import (
    MAX_PAGES,
    Params,
    Response,
    from_epoch,
    graphemes,
    image_type,
    now,
    parse_datetime,
    redact,
    request,
    unavailable,
    url_spans,
    with_link,
)
from suffrage.social.records import ApiError, Published, RateLimited, SocialRecord, TokenExpired

PROVIDER = "Bluesky"
CHARACTER_LIMIT = 300  # grapheme clusters (and 3,000 bytes of UTF-8)
PAGE_SIZE = 100
POST = "app.bsky.feed.post"
# Errors meaning the app password or the session is no good: connect again.
_AUTH_ERRORS = {"AuthenticationRequired", "InvalidToken", "AuthMissing", "BadJwt"}
_HASHTAG = re.compile(r"(?<!\S)[#＃]([^\s#＃]+)")
_MAX_TAG = 64


def bluesky_length(text: str) -> int:
    """The length Bluesky checks against its 300: grapheme clusters, counted by
    http.graphemes's approximation of Unicode's rules (combining marks, variation
    selectors, skin tones and zero width joiner sequences join the character before;
    two regional indicators make one flag)."""
    return graphemes(text)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _hashtags(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """(start, end, tag) of each hashtag outside the links: "#Brest2027" is the tag
    "Brest2027"; closing punctuation is left out and all-digit tags ("#1") are not tags."""
    found: list[tuple[int, int, str]] = []
    for match in _HASHTAG.finditer(text):
        tag = match.group(1)
        while tag and unicodedata.category(tag[-1]).startswith("P"):
            tag = tag[:-1]
        start = match.start()
        end = match.start(1) + len(tag)
        if not tag or tag.isdigit() or graphemes(tag) > _MAX_TAG:
            continue
        if any(start < link_end and end > link_start for link_start, link_end in taken):
            continue
        found.append((start, end, tag))
    return found


def facets(text: str) -> list[dict[str, Any]]:
    """The rich-text facets of a post: each http(s) address a link, each hashtag a tag,
    their places counted in bytes of the UTF-8 text (start included, end excluded)."""
    result: list[dict[str, Any]] = []
    links = url_spans(text)
    for start, end, url in links:
        result.append(
            {
                "index": {"byteStart": _byte_offset(text, start), "byteEnd": _byte_offset(text, end)},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    for start, end, tag in _hashtags(text, [(start, end) for start, end, _url in links]):
        result.append(
            {
                "index": {"byteStart": _byte_offset(text, start), "byteEnd": _byte_offset(text, end)},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
            }
        )
    result.sort(key=lambda facet: int(facet["index"]["byteStart"]))
    return result


class _ExpiredToken(TokenExpired):
    """The access token expired: refreshed once, then it is a TokenExpired like others."""


def _retry_at(value: str) -> datetime.datetime | None:
    """`ratelimit-reset` is a Unix time; a small number is read as seconds from now
    (the IETF draft's meaning), as other AT Protocol servers may send."""
    moment = from_epoch(value)
    if moment is None:
        return None
    if moment.year < 2001:  # under 10^9 seconds: a delay
        return now() + datetime.timedelta(seconds=moment.timestamp())
    return moment


class BlueskyClient:
    max_pages = MAX_PAGES

    def __init__(
        self,
        service: str = "https://bsky.social",
        appview: str = "https://public.api.bsky.app",
        handle: str = "",
        app_password: str = "",
    ) -> None:
        self.service = service.strip().rstrip("/")
        self.appview = appview.strip().rstrip("/")
        self.handle = handle.strip().lstrip("@")
        self.app_password = app_password
        self.session: dict[str, str] = {}  # accessJwt, refreshJwt, did, handle once logged in

    # --- Calls ---------------------------------------------------------------------------

    def _hidden(self) -> tuple[str, ...]:
        return (self.app_password, self.session.get("accessJwt", ""), self.session.get("refreshJwt", ""))

    def _xrpc(
        self,
        method: str,
        base: str,
        nsid: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        content_type: str = "",
        token: str = "",
    ) -> Response:
        response = request(
            method,
            f"{base}/xrpc/{nsid}",
            provider=PROVIDER,
            params=params,
            json_body=json_body,
            body=body,
            content_type=content_type,
            headers={"Authorization": f"Bearer {token}"} if token else None,
        )
        if response.ok:
            return response
        raise self._error(response)

    def _error(self, response: Response) -> ApiError:
        data = response.object()
        name = str(data.get("error") or "")
        message = redact(str(data.get("message") or ""), *self._hidden())
        status = response.status
        if name == "ExpiredToken":
            return _ExpiredToken(gettext("Bluesky: the session expired; connect the account again."))
        if status == 401 or name in _AUTH_ERRORS:
            return TokenExpired(
                gettext("Bluesky: the app password is wrong or was revoked; connect the account again.")
            )
        if status == 429 or name == "RateLimitExceeded":
            return RateLimited(
                gettext("Bluesky: too many requests; wait before trying again."),
                retry_at=_retry_at(response.header("ratelimit-reset")),
            )
        if status >= 500:
            return unavailable(PROVIDER, status)
        return ApiError(
            gettext("Bluesky: %(error)s (HTTP %(status)s)") % {"error": message or name or "—", "status": status}
        )

    def _object(self, response: Response) -> dict[str, Any]:
        data = response.json()
        if not isinstance(data, dict):
            raise unavailable(PROVIDER, response.status)
        return data

    # --- Session -------------------------------------------------------------------------

    def _keep(self, data: dict[str, Any]) -> dict[str, str]:
        if not data.get("accessJwt") or not data.get("did"):
            raise unavailable(PROVIDER, 200)
        self.session = {
            "accessJwt": str(data["accessJwt"]),
            "refreshJwt": str(data.get("refreshJwt") or self.session.get("refreshJwt", "")),
            "did": str(data["did"]),
            "handle": str(data.get("handle") or self.handle),
        }
        return self.session

    def login(self) -> dict[str, str]:
        """The session, opened with the handle and app password when there is none."""
        if self.session.get("accessJwt"):
            return self.session
        if not self.handle or not self.app_password:
            raise TokenExpired(gettext("Bluesky: the handle and an app password are needed."))
        response = self._xrpc(
            "POST",
            self.service,
            "com.atproto.server.createSession",
            json_body={"identifier": self.handle, "password": self.app_password},
        )
        return self._keep(self._object(response))

    def _refresh(self) -> None:
        refresh = self.session.get("refreshJwt", "")
        self.session = {**self.session, "accessJwt": ""}
        if not refresh:
            raise TokenExpired(gettext("Bluesky: the session expired; connect the account again."))
        try:
            response = self._xrpc("POST", self.service, "com.atproto.server.refreshSession", token=refresh)
        except TokenExpired:
            self.session = {}
            raise
        self._keep(self._object(response))

    def _authed(self, nsid: str, **call: Any) -> Response:
        """A POST in the session; an expired access token is refreshed once, and the
        call made again (a second expiry is a TokenExpired)."""
        session = self.login()
        try:
            return self._xrpc("POST", self.service, nsid, token=session["accessJwt"], **call)
        except _ExpiredToken:
            self._refresh()
        return self._xrpc("POST", self.service, nsid, token=self.session["accessJwt"], **call)

    def verify(self) -> str:
        """Open a session with the app password; the account's handle."""
        self.session = {}
        return self.login()["handle"]

    # --- Followers -----------------------------------------------------------------------

    def followers(self, actor: str, limit: int | None = None) -> Iterator[SocialRecord]:
        """The followers of `actor` (a handle or a DID), at most `limit`."""
        name = actor.strip().lstrip("@")
        if not name:
            raise ApiError(gettext("Bluesky: which account? The handle is empty."))
        row = 0
        cursor = ""
        seen: set[str] = set()
        for _page in range(self.max_pages):
            if limit is not None and row >= limit:
                return
            size = PAGE_SIZE if limit is None else max(1, min(PAGE_SIZE, limit - row))
            params = [("actor", name), ("limit", str(size))] + ([("cursor", cursor)] if cursor else [])
            data = self._object(self._xrpc("GET", self.appview, "app.bsky.graph.getFollowers", params=params))
            profiles = data.get("followers")
            if not isinstance(profiles, list) or not profiles:
                return
            for profile in profiles:
                if not isinstance(profile, dict):
                    continue
                if limit is not None and row >= limit:
                    return
                row += 1
                handle = str(profile.get("handle") or "")
                yield SocialRecord(
                    network="bluesky",
                    row=row,
                    handle=handle,
                    url=f"https://bsky.app/profile/{handle or profile.get('did', '')}",
                    external_id=str(profile.get("did") or ""),
                    display_name=str(profile.get("displayName") or ""),
                    collected_at=parse_datetime(profile.get("indexedAt")),
                )
            cursor = str(data.get("cursor") or "")
            if not cursor or cursor in seen:
                return
            seen.add(cursor)

    # --- Publishing ----------------------------------------------------------------------

    def upload(self, image: bytes, image_name: str = "") -> dict[str, Any]:
        """Upload an image; the blob to put in a record."""
        response = self._authed("com.atproto.repo.uploadBlob", body=image, content_type=image_type(image, image_name))
        blob = self._object(response).get("blob")
        if not isinstance(blob, dict):
            raise unavailable(PROVIDER, response.status)
        return blob

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
        """Publish a post: `text`, then `link` unless the text has it, with the image,
        or else a card for the link. (`idempotency_key` is accepted for a call like
        Mastodon's; Bluesky has no such key.)"""
        session = self.login()
        body = with_link(text, link)
        record: dict[str, Any] = {
            "$type": POST,
            "text": body,
            "createdAt": now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        found = facets(body)
        if found:
            record["facets"] = found
        if image:
            blob = self.upload(image, image_name)
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [{"alt": image_alt, "image": blob}]}
        elif link.strip():
            record["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {"uri": link.strip(), "title": link.strip(), "description": ""},
            }
        response = self._authed(
            "com.atproto.repo.createRecord",
            json_body={"repo": self.session.get("did") or session["did"], "collection": POST, "record": record},
        )
        uri = str(self._object(response).get("uri") or "")
        if not uri.startswith("at://"):
            raise unavailable(PROVIDER, response.status)
        rkey = uri.rsplit("/", 1)[-1]
        handle = self.session.get("handle") or self.handle
        return Published(remote_id=uri, url=f"https://bsky.app/profile/{handle}/post/{rkey}")
