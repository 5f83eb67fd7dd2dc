"""A post's link. When it points at one of the campaign's public pages (a form, a
petition, an event, a call to action), each account gets its own tracked address:
the page with `?via=post-<code>-<network>`. The public pages carry that referral
through their form to the submission or RSVP (engagement.public), so the reports can
say which post, on which network, brought whom."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from suffrage.engagement.models import Action, CallToAction, Event
from suffrage.social.models import Post

PUBLIC_PAGES = {Action: "action", Event: "event", CallToAction: "call"}


def referral_prefix(post: Post) -> str:
    """What every referral of this post starts with."""
    return f"post-{post.code}-"


def referral(post: Post, network: str) -> str:
    return f"{referral_prefix(post)}{network}"


def public_url(target: Any) -> str:
    """The address of one of the campaign's public pages, as shared."""
    name = PUBLIC_PAGES[type(target)]
    return settings.SITE_URL + reverse(f"engagement_public:{name}", args=[target.campaign.slug, target.slug])


def tracked_address(target: Any, code: str) -> str:
    """The tracked address of a page for a post's code, without its network (the
    composer adds it in the browser)."""
    return f"{public_url(target)}?via=post-{code}-"


def tracked_stem(post: Post) -> str:
    return tracked_address(post.target, post.code) if post.target is not None else ""


def post_link(post: Post, network: str) -> str:
    """The link an account publishes: the tracked address of the page, or the address given."""
    if post.target is not None:
        return f"{tracked_stem(post)}{network}"
    return post.url.strip()


def parse_referral(value: str) -> tuple[str, str] | None:
    """(post code, network) of a post's referral, or None for another kind."""
    kind, _sep, rest = value.partition("-")
    code, _sep, network = rest.partition("-")
    if kind != "post" or len(code) != 16 or not network:
        return None
    return code, network
