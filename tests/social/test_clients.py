"""The social-network clients against a local server speaking each platform's
documented formats, checked request by request.

Formats, from the platforms' documentation:
- Mastodon: https://docs.joinmastodon.org/methods/accounts/ (lookup, followers,
  verify_credentials), https://docs.joinmastodon.org/api/guidelines/#pagination (Link
  header, max_id), https://docs.joinmastodon.org/methods/media/ (POST /api/v2/media,
  202 then GET /api/v1/media/:id: 206 while processing, 200 when ready),
  https://docs.joinmastodon.org/methods/statuses/ (Idempotency-Key),
  https://docs.joinmastodon.org/api/rate-limits/ (X-RateLimit-Reset, ISO 8601), and the
  length rules of app/validators/status_length_validator.rb (URLs 23, graphemes).
- Bluesky: https://docs.bsky.app/docs/api/app-bsky-graph-get-followers,
  https://docs.bsky.app/docs/api/com-atproto-server-create-session and
  …-refresh-session, https://docs.bsky.app/docs/advanced-guides/posts (uploadBlob,
  createRecord, embeds), https://docs.bsky.app/docs/advanced-guides/post-richtext
  (facets in UTF-8 bytes), https://docs.bsky.app/docs/advanced-guides/rate-limits
  (ratelimit-reset).
- Graph API: https://developers.facebook.com/docs/graph-api/reference/page/feed,
  …/reference/page/photos, https://developers.facebook.com/docs/graph-api/securing-requests
  (appsecret_proof), https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving
  (field_data), https://developers.facebook.com/docs/graph-api/webhooks/getting-started
  (hub.challenge, X-Hub-Signature-256),
  https://developers.facebook.com/docs/graph-api/webhooks/getting-started/webhooks-for-leadgen,
  https://developers.facebook.com/docs/graph-api/guides/error-handling and
  …/overview/rate-limiting (codes 190, 4, 17, 32, 613, X-Business-Use-Case-Usage)."""

from __future__ import annotations

import datetime
import email.parser
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils.translation import override

from suffrage.social.clients import http
from suffrage.social.clients.bluesky import CHARACTER_LIMIT as BLUESKY_LIMIT
from suffrage.social.clients.bluesky import BlueskyClient, bluesky_length, facets
from suffrage.social.clients.facebook import (
    CHARACTER_LIMIT as FACEBOOK_LIMIT,
)
from suffrage.social.clients.facebook import (
    GraphClient,
    leadgen_ids,
    webhook_signature_ok,
    webhook_verify_challenge,
)
from suffrage.social.clients.mastodon import CHARACTER_LIMIT as MASTODON_LIMIT
from suffrage.social.clients.mastodon import MastodonClient, mastodon_length
from suffrage.social.records import ApiError, Published, RateLimited, SocialRecord, TokenExpired

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24 + b"image"
UTC = datetime.UTC

# --- A local server ----------------------------------------------------------------------


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(self.body.decode(), keep_blank_values=True)

    def parts(self) -> dict[str, dict[str, Any]]:
        """A multipart body: {name: {"filename", "type", "content"}}."""
        head = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        assert message.is_multipart()
        parts: dict[str, dict[str, Any]] = {}
        for part in message.iter_parts():
            parts[str(part.get_param("name", header="content-disposition"))] = {
                "filename": part.get_filename(),
                "type": part.get_content_type() if part["content-type"] else None,
                "content": part.get_payload(decode=True),
            }
        return parts


Answer = tuple[int, Any, dict[str, str]]


@dataclass
class Fake:
    url: str
    seen: list[Seen] = field(default_factory=list)
    routes: dict[tuple[str, str], list[Answer | Callable[[Seen], Answer]]] = field(default_factory=dict)

    def route(self, method: str, path: str, *answers: Answer | Callable[[Seen], Answer]) -> None:
        """Answer `method path` with these, in turn; the last one again and again."""
        self.routes[(method, path)] = list(answers)

    def answer(self, seen: Seen) -> Answer:
        queue = self.routes.get((seen.method, seen.path))
        if not queue:
            return 404, {"error": "Not routed"}, {}
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(seen) if callable(answer) else answer

    def calls(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]


class Handler(BaseHTTPRequestHandler):
    fake: Fake

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urllib.parse.urlsplit(self.path)
        seen = Seen(
            method=self.command,
            path=parts.path,
            query=urllib.parse.parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        self.server.fake.seen.append(seen)  # type: ignore[attr-defined]
        status, payload, headers = self.server.fake.answer(seen)  # type: ignore[attr-defined]
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _serve

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[Fake]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.fake = Fake(url=f"http://127.0.0.1:{server.server_port}")  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield server.fake  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- Shared helpers ------------------------------------------------------------------------


def test_link_header_gives_each_relation() -> None:
    header = (
        '<https://mastodon.example/api/v1/accounts/1/followers?limit=80&max_id=7>; rel="next", '
        "<https://mastodon.example/api/v1/accounts/1/followers?limit=80&since_id=9>; rel=prev"
    )
    assert http.links(header) == {
        "next": "https://mastodon.example/api/v1/accounts/1/followers?limit=80&max_id=7",
        "prev": "https://mastodon.example/api/v1/accounts/1/followers?limit=80&since_id=9",
    }
    assert http.links("") == {}
    assert http.links("<https://x.example/>; title=x") == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T12:30:00.019685Z", datetime.datetime(2024, 5, 1, 12, 30, 0, 19685, tzinfo=UTC)),
        ("2016-06-22T09:29:50+0000", datetime.datetime(2016, 6, 22, 9, 29, 50, tzinfo=UTC)),
        ("2024-05-01T14:30:00+02:00", datetime.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_dates_are_read_in_utc(value: str | None, expected: datetime.datetime | None) -> None:
    assert http.parse_datetime(value) == expected


def test_urls_leave_closing_punctuation_out() -> None:
    text = "Voir (https://fr.wikipedia.org/wiki/Brest_(France)). Et https://a.fr/x, puis https://b.fr/y."
    assert [url for _start, _end, url in http.url_spans(text)] == [
        "https://fr.wikipedia.org/wiki/Brest_(France)",
        "https://a.fr/x",
        "https://b.fr/y",
    ]


def test_the_link_is_added_once() -> None:
    assert http.with_link("Réunion ce soir", "https://brest2027.fr") == "Réunion ce soir\n\nhttps://brest2027.fr"
    assert http.with_link("Réunion : https://brest2027.fr", "https://brest2027.fr") == "Réunion : https://brest2027.fr"
    assert http.with_link("", "https://brest2027.fr") == "https://brest2027.fr"
    assert http.with_link("Réunion", "") == "Réunion"


def test_unreachable_server_is_an_api_error_without_the_address() -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/v1/statuses?access_token=s3cret"
    with override("en"), pytest.raises(ApiError) as raised:
        http.request("GET", url, provider="Mastodon", timeout=2)
    assert "Mastodon cannot be reached" in str(raised.value)
    assert "try again later" in str(raised.value)
    assert "s3cret" not in str(raised.value)
    assert "127.0.0.1" not in str(raised.value)


def test_an_address_that_is_not_http_is_refused() -> None:
    with override("en"), pytest.raises(ApiError, match="not valid"):
        http.request("GET", "file:///etc/passwd", provider="Bluesky")


def test_limits() -> None:
    assert (MASTODON_LIMIT, BLUESKY_LIMIT, FACEBOOK_LIMIT) == (500, 300, 63206)


# --- Mastodon ------------------------------------------------------------------------------

MASTODON_TOKEN = "mastodon-token-XYZ"


def account(number: int, acct: str | None = None) -> dict[str, Any]:
    return {
        "id": str(1000 + number),
        "username": f"user{number}",
        "acct": acct or f"user{number}",
        "display_name": f"Personne {number}",
        "url": f"https://mastodon.example/@user{number}",
    }


def test_mastodon_followers_follow_the_link_header_over_three_pages(fake: Fake) -> None:
    fake.route("GET", "/api/v1/accounts/lookup", (200, account(0, "brest2027"), {}))
    followers = "/api/v1/accounts/1000/followers"

    def page(seen: Seen) -> Answer:
        max_id = seen.query.get("max_id", [""])[0]
        if not max_id:
            people, next_id = [account(1), account(2, "alice@autre.example")], "2002"
        elif max_id == "2002":
            people, next_id = [account(3), account(4)], "2004"
        else:
            people, next_id = [account(5)], ""
        headers = {}
        if next_id:
            next_url = f"{fake.url}{followers}?limit=80&max_id={next_id}"
            prev_url = f"{fake.url}{followers}?limit=80&since_id=9999"
            headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'
        return 200, people, headers

    fake.route("GET", followers, page)
    client = MastodonClient(fake.url, MASTODON_TOKEN)
    records = list(client.followers("@brest2027"))

    lookup, *pages = fake.seen
    assert lookup.path == "/api/v1/accounts/lookup"
    assert lookup.query == {"acct": ["brest2027"]}
    assert lookup.headers["authorization"] == f"Bearer {MASTODON_TOKEN}"
    assert [seen.query for seen in pages] == [
        {"limit": ["80"]},
        {"limit": ["80"], "max_id": ["2002"]},
        {"limit": ["80"], "max_id": ["2004"]},
    ]
    assert all(seen.headers["authorization"] == f"Bearer {MASTODON_TOKEN}" for seen in pages)
    assert [record.row for record in records] == [1, 2, 3, 4, 5]
    assert records[0] == SocialRecord(
        network="mastodon",
        row=1,
        handle="@user1@127.0.0.1",
        url="https://mastodon.example/@user1",
        external_id="1001",
        display_name="Personne 1",
        collected_at=None,
    )
    assert records[1].handle == "@alice@autre.example"


def test_mastodon_followers_stop_at_the_limit_without_asking_for_more(fake: Fake) -> None:
    fake.route("GET", "/api/v1/accounts/lookup", (200, account(0), {}))
    link = f'<{fake.url}/api/v1/accounts/1000/followers?max_id=1>; rel="next"'
    fake.route("GET", "/api/v1/accounts/1000/followers", (200, [account(1), account(2), account(3)], {"Link": link}))
    records = list(MastodonClient(fake.url).followers("user0", limit=2))
    assert [record.external_id for record in records] == ["1001", "1002"]
    (listing,) = fake.calls("/api/v1/accounts/1000/followers")
    assert listing.query == {"limit": ["2"]}
    assert "authorization" not in listing.headers  # public listing: no token, none sent


def test_mastodon_followers_end_when_the_server_repeats_itself_or_pages_run_out(fake: Fake) -> None:
    fake.route("GET", "/api/v1/accounts/lookup", (200, account(0), {}))
    link = f'<{fake.url}/api/v1/accounts/1000/followers?max_id=5>; rel="next"'
    fake.route("GET", "/api/v1/accounts/1000/followers", (200, [account(1)], {"Link": link}))
    assert len(list(MastodonClient(fake.url).followers("user0"))) == 2
    assert len(fake.calls("/api/v1/accounts/1000/followers")) == 2

    fake.seen.clear()
    counter = iter(range(10**6, 0, -1))

    def endless(seen: Seen) -> Answer:
        next_link = f'<{fake.url}/api/v1/accounts/1000/followers?max_id={next(counter)}>; rel="next"'
        return 200, [account(1)], {"Link": next_link}

    fake.route("GET", "/api/v1/accounts/1000/followers", endless)
    client = MastodonClient(fake.url)
    client.max_pages = 4
    assert len(list(client.followers("user0"))) == 4
    assert len(fake.calls("/api/v1/accounts/1000/followers")) == 4


def test_mastodon_publishes_an_image_once_processed_then_the_status(fake: Fake) -> None:
    fake.route("POST", "/api/v2/media", (202, {"id": "22", "type": "image", "url": None}, {}))
    fake.route(
        "GET",
        "/api/v1/media/22",
        (206, {"id": "22", "url": None}, {}),
        (200, {"id": "22", "url": "https://files.example/22.png"}, {}),
    )
    fake.route(
        "POST",
        "/api/v1/statuses",
        (200, {"id": "110", "url": "https://mastodon.example/@brest2027/110", "uri": "https://x/110"}, {}),
    )
    client = MastodonClient(fake.url, MASTODON_TOKEN)
    client.media_poll_interval = 0
    published = client.publish(
        "Réunion publique jeudi 🎉",
        link="https://brest2027.fr/reunion",
        image=PNG,
        image_name="affiche.png",
        image_alt="L'affiche de la réunion",
        idempotency_key="post-42",
    )
    assert published == Published(remote_id="110", url="https://mastodon.example/@brest2027/110")

    upload, poll_1, poll_2, status = fake.seen
    assert (upload.method, upload.path) == ("POST", "/api/v2/media")
    assert upload.headers["authorization"] == f"Bearer {MASTODON_TOKEN}"
    parts = upload.parts()
    assert parts["file"] == {"filename": "affiche.png", "type": "image/png", "content": PNG}
    assert parts["description"]["content"].decode() == "L'affiche de la réunion"
    assert [(poll.method, poll.path) for poll in (poll_1, poll_2)] == [("GET", "/api/v1/media/22")] * 2
    assert (status.method, status.path) == ("POST", "/api/v1/statuses")
    assert status.headers["idempotency-key"] == "post-42"
    assert status.headers["authorization"] == f"Bearer {MASTODON_TOKEN}"
    assert status.headers["content-type"] == "application/x-www-form-urlencoded"
    assert status.form() == {
        "status": ["Réunion publique jeudi 🎉\n\nhttps://brest2027.fr/reunion"],
        "media_ids[]": ["22"],
    }


def test_mastodon_publishes_text_alone_without_an_idempotency_key_when_none_given(fake: Fake) -> None:
    fake.route("POST", "/api/v1/statuses", (200, {"id": "111", "url": "https://mastodon.example/@b/111"}, {}))
    MastodonClient(fake.url, MASTODON_TOKEN).publish("Voir https://brest2027.fr", link="https://brest2027.fr")
    (status,) = fake.seen
    assert status.form() == {"status": ["Voir https://brest2027.fr"]}
    assert "idempotency-key" not in status.headers


def test_mastodon_image_processing_is_waited_for_a_bounded_time(fake: Fake) -> None:
    fake.route("POST", "/api/v2/media", (202, {"id": "22", "url": None}, {}))
    fake.route("GET", "/api/v1/media/22", (206, {"id": "22", "url": None}, {}))
    client = MastodonClient(fake.url, MASTODON_TOKEN)
    client.media_poll_interval, client.media_poll_attempts = 0, 3
    with override("en"), pytest.raises(ApiError, match="still processing the image"):
        client.publish("Affiche", image=PNG)
    assert len(fake.calls("/api/v1/media/22")) == 3
    assert not fake.calls("/api/v1/statuses")


def test_mastodon_image_processed_at_once_is_not_polled(fake: Fake) -> None:
    fake.route("POST", "/api/v2/media", (200, {"id": "23", "url": "https://files.example/23.png"}, {}))
    fake.route("POST", "/api/v1/statuses", (200, {"id": "112", "url": "https://mastodon.example/@b/112"}, {}))
    MastodonClient(fake.url, MASTODON_TOKEN).publish("Affiche", image=PNG)
    assert [seen.path for seen in fake.seen] == ["/api/v2/media", "/api/v1/statuses"]
    assert fake.seen[0].parts()["file"]["filename"] == "image.png"
    assert "description" not in fake.seen[0].parts()


def test_mastodon_verify_names_the_account(fake: Fake) -> None:
    fake.route("GET", "/api/v1/accounts/verify_credentials", (200, account(0, "brest2027"), {}))
    assert MastodonClient(fake.url, MASTODON_TOKEN).verify() == "brest2027"
    assert fake.seen[0].headers["authorization"] == f"Bearer {MASTODON_TOKEN}"


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        (401, {"error": "The access token is invalid"}),
        (403, {"error": "The access token is invalid"}),
        (403, {"error": "The access token was revoked"}),
    ],
)
def test_mastodon_invalid_tokens_mean_connecting_again(fake: Fake, status: int, payload: dict[str, Any]) -> None:
    fake.route("GET", "/api/v1/accounts/verify_credentials", (status, payload, {}))
    with override("en"), pytest.raises(TokenExpired) as raised:
        MastodonClient(fake.url, MASTODON_TOKEN).verify()
    assert "connect the account again" in str(raised.value)
    assert MASTODON_TOKEN not in str(raised.value)


def test_mastodon_missing_scope_is_not_an_expired_token(fake: Fake) -> None:
    fake.route("POST", "/api/v1/statuses", (403, {"error": "This action is outside the authorized scopes"}, {}))
    with override("en"), pytest.raises(ApiError) as raised:
        MastodonClient(fake.url, MASTODON_TOKEN).publish("Bonjour")
    assert not isinstance(raised.value, TokenExpired)
    assert "outside the authorized scopes" in str(raised.value)


def test_mastodon_rate_limit_says_when_to_try_again(fake: Fake) -> None:
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2024-05-01T12:35:00Z"}
    fake.route("POST", "/api/v1/statuses", (429, {"error": "Too many requests"}, headers))
    with override("en"), pytest.raises(RateLimited) as raised:
        MastodonClient(fake.url, MASTODON_TOKEN).publish("Bonjour")
    assert raised.value.retry_at == datetime.datetime(2024, 5, 1, 12, 35, tzinfo=UTC)
    assert "too many requests" in str(raised.value).lower()


def test_mastodon_refused_status_gives_mastodons_reason(fake: Fake) -> None:
    fake.route(
        "POST", "/api/v1/statuses", (422, {"error": "Validation failed: Text character limit of 500 exceeded"}, {})
    )
    with override("en"), pytest.raises(ApiError) as raised:
        MastodonClient(fake.url, MASTODON_TOKEN).publish("x" * 600)
    assert str(raised.value) == "Mastodon refused the post: Validation failed: Text character limit of 500 exceeded"
    assert not isinstance(raised.value, TokenExpired | RateLimited)


def test_mastodon_server_errors_say_to_try_later(fake: Fake) -> None:
    fake.route("GET", "/api/v1/accounts/lookup", (503, b"<html>Maintenance</html>", {}))
    with override("en"), pytest.raises(ApiError) as raised:
        list(MastodonClient(fake.url, MASTODON_TOKEN).followers("brest2027"))
    assert str(raised.value) == "Mastodon is not answering properly (HTTP 503): try again later."


def test_mastodon_unknown_account(fake: Fake) -> None:
    fake.route("GET", "/api/v1/accounts/lookup", (404, {"error": "Record not found"}, {}))
    with override("en"), pytest.raises(ApiError, match="Record not found"):
        list(MastodonClient(fake.url).followers("personne"))


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Bonjour", 7),
        ("Réunion à Brest", 15),
        ("Re\u0301union", 7),  # é as e + combining accent
        ("https://brest2027.fr/un/lien/tres/long/qui/depasse/vingt-trois", 23),
        ("Voir https://a.fr et http://b.fr/x.", 5 + 23 + 4 + 23 + 1),
        ("Merci @alice@mastodon.social !", len("Merci @alice !")),
        ("👨‍👩‍👧‍👦 🇫🇷", 3),
    ],
)
def test_mastodon_length_counts_links_as_23(text: str, length: int) -> None:
    assert mastodon_length(text) == length


# --- Bluesky -------------------------------------------------------------------------------

APP_PASSWORD = "abcd-efgh-ijkl-mnop"
DID = "did:plc:brest2027xyz"
SESSION = {"accessJwt": "access-1", "refreshJwt": "refresh-1", "did": DID, "handle": "brest2027.bsky.social"}
POST_URI = f"at://{DID}/app.bsky.feed.post/3kq2ab7xyz2c"


def bluesky(fake: Fake) -> BlueskyClient:
    return BlueskyClient(service=fake.url, appview=fake.url, handle="@brest2027.bsky.social", app_password=APP_PASSWORD)


def profile(number: int, indexed: str | None = "2024-03-0{n}T10:00:00.000Z") -> dict[str, Any]:
    data: dict[str, Any] = {
        "did": f"did:plc:person{number}",
        "handle": f"person{number}.bsky.social",
        "displayName": f"Personne {number}",
    }
    if indexed:
        data["indexedAt"] = indexed.format(n=number)
    return data


def test_bluesky_followers_follow_the_cursor_over_three_pages_without_authentication(fake: Fake) -> None:
    def page(seen: Seen) -> Answer:
        cursor = seen.query.get("cursor", [""])[0]
        if not cursor:
            return 200, {"subject": profile(0), "followers": [profile(1), profile(2)], "cursor": "c2"}, {}
        if cursor == "c2":
            return 200, {"subject": profile(0), "followers": [profile(3, None)], "cursor": "c3"}, {}
        return 200, {"subject": profile(0), "followers": [profile(4)]}, {}

    fake.route("GET", "/xrpc/app.bsky.graph.getFollowers", page)
    records = list(bluesky(fake).followers("@brest2027.bsky.social"))

    assert [seen.query for seen in fake.seen] == [
        {"actor": ["brest2027.bsky.social"], "limit": ["100"]},
        {"actor": ["brest2027.bsky.social"], "limit": ["100"], "cursor": ["c2"]},
        {"actor": ["brest2027.bsky.social"], "limit": ["100"], "cursor": ["c3"]},
    ]
    assert all("authorization" not in seen.headers for seen in fake.seen)
    assert records[0] == SocialRecord(
        network="bluesky",
        row=1,
        handle="person1.bsky.social",
        url="https://bsky.app/profile/person1.bsky.social",
        external_id="did:plc:person1",
        display_name="Personne 1",
        collected_at=datetime.datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
    )
    assert [record.row for record in records] == [1, 2, 3, 4]
    assert records[2].collected_at is None


def test_bluesky_followers_stop_at_the_limit_and_on_a_repeated_cursor(fake: Fake) -> None:
    fake.route(
        "GET", "/xrpc/app.bsky.graph.getFollowers", (200, {"followers": [profile(1), profile(2)], "cursor": "same"}, {})
    )
    assert len(list(bluesky(fake).followers("brest2027.bsky.social", limit=3))) == 3
    assert [seen.query["limit"] for seen in fake.seen] == [["3"], ["1"]]
    fake.seen.clear()
    assert len(list(bluesky(fake).followers("brest2027.bsky.social"))) == 4
    assert len(fake.seen) == 2


def test_bluesky_facets_count_utf8_bytes_before_the_link() -> None:
    text = "Réunion à Brest 🎉 : https://brest2027.fr/reunion #Brest2027 #1"
    found = facets(text)
    # "Réunion à Brest 🎉 : " is 21 characters but 25 bytes: é and à take 2, 🎉 takes 4.
    assert found == [
        {
            "index": {"byteStart": 25, "byteEnd": 53},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://brest2027.fr/reunion"}],
        },
        {
            "index": {"byteStart": 54, "byteEnd": 64},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Brest2027"}],
        },
    ]
    raw = text.encode()
    assert raw[25:53].decode() == "https://brest2027.fr/reunion"
    assert raw[54:64].decode() == "#Brest2027"


def test_bluesky_publishes_a_post_with_facets_and_a_link_card(fake: Fake) -> None:
    fake.route("POST", "/xrpc/com.atproto.server.createSession", (200, SESSION, {}))
    fake.route("POST", "/xrpc/com.atproto.repo.createRecord", (200, {"uri": POST_URI, "cid": "bafyrei"}, {}))
    before = datetime.datetime.now(tz=UTC) - datetime.timedelta(seconds=1)
    published = bluesky(fake).publish("Réunion à Brest 🎉 :", link="https://brest2027.fr/reunion")
    assert published == Published(
        remote_id=POST_URI, url="https://bsky.app/profile/brest2027.bsky.social/post/3kq2ab7xyz2c"
    )

    login, create = fake.seen
    assert login.json() == {"identifier": "brest2027.bsky.social", "password": APP_PASSWORD}
    assert "authorization" not in login.headers
    assert create.headers["authorization"] == "Bearer access-1"
    assert create.headers["content-type"] == "application/json"
    body = create.json()
    assert body["repo"] == DID
    assert body["collection"] == "app.bsky.feed.post"
    record = body["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == "Réunion à Brest 🎉 :\n\nhttps://brest2027.fr/reunion"
    start = len("Réunion à Brest 🎉 :\n\n".encode())
    assert start == 26
    assert record["facets"] == [
        {
            "index": {"byteStart": 26, "byteEnd": 54},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://brest2027.fr/reunion"}],
        }
    ]
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {"uri": "https://brest2027.fr/reunion", "title": "https://brest2027.fr/reunion", "description": ""},
    }
    assert record["createdAt"].endswith("Z")
    created = http.parse_datetime(record["createdAt"])
    assert created is not None and before <= created <= datetime.datetime.now(tz=UTC)


def test_bluesky_publishes_an_image_with_its_alternative_text(fake: Fake) -> None:
    blob = {"$type": "blob", "ref": {"$link": "bafkreiabc"}, "mimeType": "image/png", "size": len(PNG)}
    fake.route("POST", "/xrpc/com.atproto.server.createSession", (200, SESSION, {}))
    fake.route("POST", "/xrpc/com.atproto.repo.uploadBlob", (200, {"blob": blob}, {}))
    fake.route("POST", "/xrpc/com.atproto.repo.createRecord", (200, {"uri": POST_URI, "cid": "bafyrei"}, {}))
    bluesky(fake).publish("Notre affiche", image=PNG, image_name="affiche.png", image_alt="L'affiche")

    _login, upload, create = fake.seen
    assert upload.body == PNG
    assert upload.headers["content-type"] == "image/png"
    assert upload.headers["authorization"] == "Bearer access-1"
    record = create.json()["record"]
    assert record["text"] == "Notre affiche"
    assert "facets" not in record
    assert record["embed"] == {"$type": "app.bsky.embed.images", "images": [{"alt": "L'affiche", "image": blob}]}


def test_bluesky_refreshes_an_expired_session_once_then_succeeds(fake: Fake) -> None:
    fake.route("POST", "/xrpc/com.atproto.server.createSession", (200, SESSION, {}))
    fake.route(
        "POST",
        "/xrpc/com.atproto.repo.createRecord",
        (400, {"error": "ExpiredToken", "message": "Token has expired"}, {}),
        (200, {"uri": POST_URI, "cid": "bafyrei"}, {}),
    )
    fresh = {**SESSION, "accessJwt": "access-2", "refreshJwt": "refresh-2"}
    fake.route("POST", "/xrpc/com.atproto.server.refreshSession", (200, fresh, {}))
    client = bluesky(fake)
    assert client.publish("Bonjour").remote_id == POST_URI

    paths = [seen.path for seen in fake.seen]
    assert paths == [
        "/xrpc/com.atproto.server.createSession",
        "/xrpc/com.atproto.repo.createRecord",
        "/xrpc/com.atproto.server.refreshSession",
        "/xrpc/com.atproto.repo.createRecord",
    ]
    _login, first, refresh, second = fake.seen
    assert first.headers["authorization"] == "Bearer access-1"
    assert refresh.headers["authorization"] == "Bearer refresh-1"
    assert second.headers["authorization"] == "Bearer access-2"
    assert first.json()["record"]["text"] == second.json()["record"]["text"] == "Bonjour"
    assert client.session["refreshJwt"] == "refresh-2"


def test_bluesky_refreshes_only_once(fake: Fake) -> None:
    fake.route("POST", "/xrpc/com.atproto.server.createSession", (200, SESSION, {}))
    fake.route("POST", "/xrpc/com.atproto.repo.createRecord", (400, {"error": "ExpiredToken", "message": "x"}, {}))
    fake.route("POST", "/xrpc/com.atproto.server.refreshSession", (200, {**SESSION, "accessJwt": "access-2"}, {}))
    with override("en"), pytest.raises(TokenExpired):
        bluesky(fake).publish("Bonjour")
    assert len(fake.calls("/xrpc/com.atproto.server.refreshSession")) == 1
    assert len(fake.calls("/xrpc/com.atproto.repo.createRecord")) == 2


def test_bluesky_expired_refresh_token_means_connecting_again(fake: Fake) -> None:
    fake.route("POST", "/xrpc/com.atproto.server.createSession", (200, SESSION, {}))
    fake.route("POST", "/xrpc/com.atproto.repo.createRecord", (400, {"error": "ExpiredToken", "message": "x"}, {}))
    fake.route("POST", "/xrpc/com.atproto.server.refreshSession", (400, {"error": "ExpiredToken", "message": "x"}, {}))
    with override("en"), pytest.raises(TokenExpired, match="connect the account again"):
        bluesky(fake).publish("Bonjour")
    assert len(fake.calls("/xrpc/com.atproto.repo.createRecord")) == 1


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        (401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
        (400, {"error": "InvalidToken", "message": "Token could not be verified"}),
    ],
)
def test_bluesky_wrong_or_revoked_app_password(fake: Fake, status: int, payload: dict[str, Any]) -> None:
    fake.route("POST", "/xrpc/com.atproto.server.createSession", (status, payload, {}))
    with override("en"), pytest.raises(TokenExpired) as raised:
        bluesky(fake).publish("Bonjour")
    assert "app password is wrong or was revoked" in str(raised.value)
    assert APP_PASSWORD not in str(raised.value)


def test_bluesky_without_app_password_asks_for_one(fake: Fake) -> None:
    with override("en"), pytest.raises(TokenExpired, match="app password are needed"):
        BlueskyClient(service=fake.url, handle="brest2027.bsky.social").publish("Bonjour")
    assert fake.seen == []


def test_bluesky_rate_limit_reset_is_a_unix_time(fake: Fake) -> None:
    headers = {"ratelimit-limit": "30", "ratelimit-remaining": "0", "ratelimit-reset": "1714567200"}
    fake.route(
        "POST",
        "/xrpc/com.atproto.server.createSession",
        (429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers),
    )
    with override("en"), pytest.raises(RateLimited) as raised:
        bluesky(fake).verify()
    assert raised.value.retry_at == datetime.datetime(2024, 5, 1, 12, 40, tzinfo=UTC)


def test_bluesky_rate_limit_reset_as_a_delay_is_read_from_now(fake: Fake) -> None:
    fake.route(
        "POST",
        "/xrpc/com.atproto.server.createSession",
        (429, {"error": "RateLimitExceeded"}, {"ratelimit-reset": "60"}),
    )
    before = datetime.datetime.now(tz=UTC)
    with override("en"), pytest.raises(RateLimited) as raised:
        bluesky(fake).verify()
    after = datetime.datetime.now(tz=UTC)
    assert raised.value.retry_at is not None
    assert before + datetime.timedelta(seconds=60) <= raised.value.retry_at <= after + datetime.timedelta(seconds=60)


def test_bluesky_other_errors_give_blueskys_message(fake: Fake) -> None:
    fake.route("POST", "/xrpc/com.atproto.server.createSession", (200, SESSION, {}))
    message = "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"
    fake.route(
        "POST", "/xrpc/com.atproto.repo.createRecord", (400, {"error": "InvalidRequest", "message": message}, {})
    )
    with override("en"), pytest.raises(ApiError) as raised:
        bluesky(fake).publish("x" * 400)
    assert message in str(raised.value)
    assert not isinstance(raised.value, TokenExpired | RateLimited)
    fake.route(
        "GET",
        "/xrpc/app.bsky.graph.getFollowers",
        (400, {"error": "InvalidRequest", "message": "Profile not found"}, {}),
    )
    with override("en"), pytest.raises(ApiError, match="Profile not found"):
        list(bluesky(fake).followers("personne.bsky.social"))


def test_bluesky_verify_opens_a_session(fake: Fake) -> None:
    fake.route("POST", "/xrpc/com.atproto.server.createSession", (200, SESSION, {}))
    assert bluesky(fake).verify() == "brest2027.bsky.social"


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Bonjour", 7),
        ("Réunion", 7),
        ("Re\u0301union", 7),  # combining accent
        ("👍🏽", 1),  # skin tone
        ("👨‍👩‍👧‍👦", 1),  # family: a zero width joiner sequence
        ("🇫🇷🇪🇺", 2),  # two flags of two regional indicators each
        ("1️⃣", 1),  # keycap
        ("🏴\U000e0067\U000e0062\U000e0062\U000e007f", 1),  # subdivision flag with tags
        ("a\r\nb", 3),
    ],
)
def test_bluesky_length_counts_graphemes(text: str, length: int) -> None:
    assert bluesky_length(text) == length


# --- Facebook ------------------------------------------------------------------------------

PAGE_TOKEN = "EAAG-page-token"
APP_SECRET = "app-secret-123"
PROOF = hmac.new(APP_SECRET.encode(), PAGE_TOKEN.encode(), hashlib.sha256).hexdigest()


def graph(fake: Fake, app_secret: str = APP_SECRET) -> GraphClient:
    return GraphClient("1234567890", PAGE_TOKEN, base_url=f"{fake.url}/v21.0", app_secret=app_secret)


def test_graph_publishes_a_post_with_a_link_and_the_appsecret_proof(fake: Fake) -> None:
    fake.route("POST", "/v21.0/1234567890/feed", (200, {"id": "1234567890_998877"}, {}))
    published = graph(fake).publish("Réunion jeudi", link="https://brest2027.fr/reunion")
    assert published == Published(remote_id="1234567890_998877", url="https://www.facebook.com/1234567890_998877")
    (post,) = fake.seen
    assert post.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert post.form() == {
        "message": ["Réunion jeudi"],
        "link": ["https://brest2027.fr/reunion"],
        "appsecret_proof": [PROOF],
    }
    assert post.query == {}  # the token is never in the address


def test_graph_publishes_a_photo_with_its_caption(fake: Fake) -> None:
    fake.route("POST", "/v21.0/1234567890/photos", (200, {"id": "555", "post_id": "1234567890_556"}, {}))
    published = graph(fake).publish(
        "Notre affiche", link="https://brest2027.fr", image=PNG, image_name="affiche.png", image_alt="L'affiche"
    )
    assert published == Published(remote_id="1234567890_556", url="https://www.facebook.com/1234567890_556")
    (photo,) = fake.seen
    parts = photo.parts()
    assert parts["source"] == {"filename": "affiche.png", "type": "image/png", "content": PNG}
    assert parts["caption"]["content"].decode() == "Notre affiche\n\nhttps://brest2027.fr"
    assert parts["alt_text_custom"]["content"].decode() == "L'affiche"
    assert parts["appsecret_proof"]["content"].decode() == PROOF
    assert photo.headers["authorization"] == f"Bearer {PAGE_TOKEN}"


def test_graph_without_app_secret_sends_no_proof(fake: Fake) -> None:
    fake.route("POST", "/v21.0/1234567890/feed", (200, {"id": "1234567890_1"}, {}))
    graph(fake, app_secret="").publish("Bonjour")
    assert fake.seen[0].form() == {"message": ["Bonjour"]}


def test_graph_reads_a_lead(fake: Fake) -> None:
    lead = {
        "id": "444555666",
        "created_time": "2024-05-01T12:30:00+0000",
        "form_id": "777",
        "ad_id": "888",
        "platform": "ig",
        "field_data": [
            {"name": "first_name", "values": ["Anne"]},
            {"name": "last_name", "values": ["Le Gall"]},
            {"name": "email", "values": ["anne@example.org"]},
            {"name": "phone_number", "values": ["+33612345678"]},
            {"name": "city", "values": ["Brest"]},
            {"name": "post_code", "values": ["29200"]},
            {"name": "consentement_email", "values": ["Oui"]},
            {"name": "consent_sms", "values": ["false"]},
            {"name": "quel_sujet_vous_tient_a_coeur", "values": ["Transports", "Logement"]},
        ],
        "custom_disclaimer_responses": [
            {"checkbox_key": "j_accepte_de_recevoir_du_courrier_postal", "is_checked": "1"},
            {"checkbox_key": "conditions_generales", "is_checked": "1"},
        ],
    }
    fake.route("GET", "/v21.0/444555666", (200, lead, {}))
    record = graph(fake).lead("444555666")
    (call,) = fake.seen
    assert call.headers["authorization"] == f"Bearer {PAGE_TOKEN}"
    assert call.query["appsecret_proof"] == [PROOF]
    assert set(call.query["fields"][0].split(",")) >= {"created_time", "field_data", "form_id", "ad_id", "platform"}
    assert record == SocialRecord(
        network="instagram",
        row=1,
        external_id="444555666",
        display_name="Anne Le Gall",
        first_name="Anne",
        last_name="Le Gall",
        email="anne@example.org",
        phone="+33612345678",
        town="Brest",
        postcode="29200",
        consents={"email": True, "sms": False, "post": True},
        consent_wording="consentement email\nconsent sms\nj accepte de recevoir du courrier postal",
        answers={"quel_sujet_vous_tient_a_coeur": "Transports, Logement", "conditions_generales": "1"},
        collected_at=datetime.datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
    )


def test_graph_lead_in_french_with_a_generic_consent(fake: Fake) -> None:
    lead = {
        "id": "1",
        "created_time": "2024-05-01T12:30:00+0000",
        "platform": "fb",
        "field_data": [
            {"name": "nom_complet", "values": ["Anne Le Gall"]},
            {"name": "numéro_de_téléphone", "values": ["06 12 34 56 78"]},
            {"name": "e-mail", "values": ["anne@example.org"]},
            {"name": "code_postal", "values": ["29200"]},
            {"name": "J'accepte d'être recontacté(e)", "values": ["Oui"]},
            {"name": "consent_newsletter", "values": ["peut-être"]},
        ],
    }
    fake.route("GET", "/v21.0/1", (200, lead, {}))
    record = graph(fake).lead("1")
    assert (record.network, record.display_name, record.first_name, record.phone, record.email, record.postcode) == (
        "facebook",
        "Anne Le Gall",
        "",
        "06 12 34 56 78",
        "anne@example.org",
        "29200",
    )
    # A consent naming no channel covers the ways the lead gave; an unclear answer is
    # no consent, and stays visible among the answers.
    assert record.consents == {"email": True, "sms": True}
    assert record.answers == {"consent_newsletter": "peut-être"}


def graph_error(code: int, message: str = "An error", subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Abc"}
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}


@pytest.mark.parametrize("subcode", [None, 463, 460])
def test_graph_code_190_means_connecting_again(fake: Fake, subcode: int | None) -> None:
    fake.route("POST", "/v21.0/1234567890/feed", (400, graph_error(190, "Error validating access token", subcode), {}))
    with override("en"), pytest.raises(TokenExpired) as raised:
        graph(fake).publish("Bonjour")
    assert "connect the Page again" in str(raised.value)
    assert PAGE_TOKEN not in str(raised.value)


@pytest.mark.parametrize(("status", "code"), [(400, 4), (400, 17), (400, 32), (400, 613), (400, 80001), (429, 100)])
def test_graph_rate_limits(fake: Fake, status: int, code: int) -> None:
    fake.route("POST", "/v21.0/1234567890/feed", (status, graph_error(code, "Application request limit reached"), {}))
    with override("en"), pytest.raises(RateLimited) as raised:
        graph(fake).publish("Bonjour")
    assert raised.value.retry_at is None


def test_graph_rate_limit_says_when_from_the_business_use_case_header(fake: Fake) -> None:
    usage = {"1234567890": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    headers = {"X-Business-Use-Case-Usage": json.dumps(usage)}
    fake.route("POST", "/v21.0/1234567890/feed", (400, graph_error(32, "Page request limit reached"), headers))
    before = datetime.datetime.now(tz=UTC)
    with override("en"), pytest.raises(RateLimited) as raised:
        graph(fake).publish("Bonjour")
    after = datetime.datetime.now(tz=UTC)
    assert raised.value.retry_at is not None
    assert before + datetime.timedelta(minutes=7) <= raised.value.retry_at <= after + datetime.timedelta(minutes=7)


def test_graph_other_errors_give_the_graph_message(fake: Fake) -> None:
    fake.route(
        "POST",
        "/v21.0/1234567890/feed",
        (400, graph_error(200, "(#200) The user hasn't authorized the application"), {}),
    )
    with override("en"), pytest.raises(ApiError) as raised:
        graph(fake).publish("Bonjour")
    assert str(raised.value) == "Facebook: (#200) The user hasn't authorized the application (code 200)"
    assert not isinstance(raised.value, TokenExpired | RateLimited)


def test_graph_server_errors_say_to_try_later(fake: Fake) -> None:
    fake.route("GET", "/v21.0/9", (500, graph_error(2, "An unexpected error has occurred."), {}))
    with override("en"), pytest.raises(ApiError, match="try again later"):
        graph(fake).lead("9")


def test_graph_error_message_never_shows_the_token(fake: Fake) -> None:
    fake.route("POST", "/v21.0/1234567890/feed", (400, graph_error(100, f"Invalid parameter near {PAGE_TOKEN}"), {}))
    with override("en"), pytest.raises(ApiError) as raised:
        graph(fake).publish("Bonjour")
    assert PAGE_TOKEN not in str(raised.value)


def test_webhook_verification_echoes_the_challenge_for_our_token_only() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    assert webhook_verify_challenge(params, "verify-me") == "1158201444"
    assert webhook_verify_challenge({**params, "hub.verify_token": "wrong"}, "verify-me") is None
    assert webhook_verify_challenge({**params, "hub.mode": "unsubscribe"}, "verify-me") is None
    assert webhook_verify_challenge({"hub.mode": "subscribe", "hub.challenge": "1"}, "verify-me") is None
    assert webhook_verify_challenge({**params, "hub.verify_token": ""}, "") is None  # nothing configured


def test_webhook_signature() -> None:
    body = b'{"object":"page","entry":[]}'
    good = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert webhook_signature_ok(APP_SECRET, body, good)
    assert webhook_signature_ok(APP_SECRET, body, good.upper().replace("SHA256=", "sha256="))
    assert not webhook_signature_ok(APP_SECRET, body + b" ", good)  # the raw body, byte for byte
    assert not webhook_signature_ok("another-secret", body, good)
    assert not webhook_signature_ok(APP_SECRET, body, "")  # missing
    assert not webhook_signature_ok(APP_SECRET, body, "sha256=")
    sha1 = "sha1=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert not webhook_signature_ok(APP_SECRET, body, sha1)  # the old X-Hub-Signature
    assert not webhook_signature_ok("", body, good)


def test_leadgen_ids_from_a_notification() -> None:
    payload = {
        "object": "page",
        "entry": [
            {
                "id": "1234567890",
                "time": 1714567200,
                "changes": [
                    {"field": "leadgen", "value": {"leadgen_id": 444555666, "page_id": 1234567890, "form_id": 777}},
                    {"field": "feed", "value": {"post_id": "1_2"}},
                ],
            },
            {"id": "1234567890", "changes": [{"field": "leadgen", "value": {"leadgen_id": "444555667"}}]},
            {"id": "1234567890", "changes": [{"field": "leadgen", "value": {"leadgen_id": "444555666"}}]},
        ],
    }
    assert leadgen_ids(payload) == ["444555666", "444555667"]
    assert leadgen_ids({}) == []
    assert leadgen_ids({"entry": "nonsense"}) == []
    assert leadgen_ids([]) == []
