"""How long a post may be on each network, counted the network's way. The composer's
live counters (static/social/composer.js) apply the same rules in the browser;
tests/e2e/test_social_composer.py checks that both count alike.

- Mastodon: 500 characters unless the instance allows more (the account says); each
  address counts 23, a remote mention its username only (clients.mastodon).
- Bluesky: 300 grapheme clusters, and 3,000 bytes of UTF-8 (clients.bluesky).
- Facebook: 63,206 characters.

What is counted is the text as published: the account's version (or the post's text)
with the link added on its last line unless the text already has it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from suffrage.social.clients.bluesky import CHARACTER_LIMIT as BLUESKY_LIMIT
from suffrage.social.clients.bluesky import bluesky_length
from suffrage.social.clients.facebook import CHARACTER_LIMIT as FACEBOOK_LIMIT
from suffrage.social.clients.http import with_link
from suffrage.social.clients.mastodon import CHARACTER_LIMIT as MASTODON_LIMIT
from suffrage.social.clients.mastodon import mastodon_length
from suffrage.social.models import Network, SocialAccount

BLUESKY_BYTES = 3000


def facebook_length(text: str) -> int:
    return len(text)


@dataclass(frozen=True)
class Rule:
    limit: int
    count: Callable[[str], int]
    max_bytes: int | None = None


RULES = {
    Network.MASTODON: Rule(MASTODON_LIMIT, mastodon_length),
    Network.BLUESKY: Rule(BLUESKY_LIMIT, bluesky_length, max_bytes=BLUESKY_BYTES),
    Network.FACEBOOK: Rule(FACEBOOK_LIMIT, facebook_length),
}


def rule_for(account: SocialAccount) -> Rule:
    rule = RULES[Network(account.network)]
    if account.network == Network.MASTODON and account.character_limit:
        return Rule(account.character_limit, rule.count, rule.max_bytes)
    return rule


def published_text(body: str, link: str) -> str:
    """The text as the network receives it: the link on its last line unless it is in
    the text already."""
    return with_link(body, link)


def length_problem(account: SocialAccount, text: str) -> str:
    """Why `text` (as published) is too long for this account, or ""."""
    rule = rule_for(account)
    length = rule.count(text)
    name = f"{account.get_network_display()} · {account.name}"
    if length > rule.limit:
        return _(
            "Too long for %(account)s: %(length)s characters, %(limit)s at most. "
            "Shorten it, or write a shorter version for this account."
        ) % {"account": name, "length": length, "limit": rule.limit}
    size = len(text.encode("utf-8"))
    if rule.max_bytes is not None and size > rule.max_bytes:
        return _(
            "Too long for %(account)s: %(size)s bytes, %(limit)s at most (emoji and accented letters take several). "
            "Shorten it, or write a shorter version for this account."
        ) % {"account": name, "size": size, "limit": rule.max_bytes}
    return ""
