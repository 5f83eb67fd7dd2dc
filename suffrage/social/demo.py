"""Demo social networks: the campaign's Mastodon and Bluesky accounts (no real
secrets: publishing from the demo fails at once, "no access token", and never reaches
a network), followers of both matched with people of the base, and three posts — one
published a few days before the café citoyen, with its addresses on both networks and
RSVPs that came through it; one scheduled, linking to the petition; one draft for the
next public meeting — so that the calendar and the reports have something to show.
Idempotent."""

from __future__ import annotations

import datetime
import unicodedata

from django.db import transaction
from django.utils import timezone

from suffrage.core.models import Campaign, Membership, User
from suffrage.core.roles import Role
from suffrage.engagement.models import RSVP, Action, Event, PageView
from suffrage.people.models import Person, SocialProfile
from suffrage.social import posts, services
from suffrage.social.links import referral
from suffrage.social.models import NetworkArrival, Post, Publication, SocialAccount

PUBLISHED = (
    "Café citoyen à Bellevue mardi : une heure pour parler du quartier, des transports et du logement. "
    "Venez avec vos questions !"
)
SCHEDULED = (
    "Le tram doit aller jusqu'à Plougastel. Près de 70 Brestois ont déjà signé notre pétition : "
    "ajoutez votre nom avant qu'on la remette au conseil de la métropole."
)
SCHEDULED_BLUESKY = "Le tram jusqu'à Plougastel : signez la pétition 🚋"
DRAFT = "Réunion publique sur les transports au Patronage laïque de Recouvrance : tram, bus, vélo. Inscrivez-vous !"


def load(campaign: Campaign) -> None:
    owner = Membership.objects.filter(campaign=campaign, role=Role.OWNER).select_related("user").first()
    if owner is None or SocialAccount.objects.filter(campaign=campaign).exists():
        return
    actor = owner.user
    with transaction.atomic():
        mastodon = services.account_save(
            campaign=campaign,
            values={
                "network": "mastodon",
                "name": "Brest en commun",
                "handle": "@brestencommun@mastodon.social",
                "server": "https://mastodon.social",
            },
            actor=actor,
        )
        bluesky = services.account_save(
            campaign=campaign,
            values={"network": "bluesky", "name": "Brest en commun", "handle": "brestencommun.bsky.social"},
            actor=actor,
        )
        _followers(campaign, mastodon, bluesky)
        _posts(campaign, actor, mastodon, bluesky)


def _handle(person: Person) -> str:
    name = unicodedata.normalize("NFKD", person.first_names.split(" ")[0].lower())
    return "".join(char for char in name if char.isalnum() and char.isascii()) or "militant"


def _followers(campaign: Campaign, mastodon: SocialAccount, bluesky: SocialAccount) -> None:
    """Followers read a month ago and matched with people of the base."""
    people = list(Person.objects.filter(campaign=campaign, emails__isnull=False).distinct().order_by("pk")[:40])
    month_ago = timezone.now() - datetime.timedelta(days=30)
    for index, person in enumerate(people[::2]):
        on_mastodon = index % 3 != 2
        network = "mastodon" if on_mastodon else "bluesky"
        handle = (
            f"@{_handle(person)}{person.pk}@mastodon.social"
            if on_mastodon
            else f"{_handle(person)}{person.pk}.bsky.social"
        )
        SocialProfile.objects.create(person=person, network=network, handle=handle)
        NetworkArrival.objects.create(campaign=campaign, network=network, person_id=person.pk, at=month_ago)


def _posts(campaign: Campaign, actor: User, mastodon: SocialAccount, bluesky: SocialAccount) -> None:
    petition = Action.objects.filter(campaign=campaign, slug="tram-plougastel").first()
    cafe = Event.objects.filter(campaign=campaign, slug="cafe-bellevue").first()
    meeting = Event.objects.filter(campaign=campaign, slug="reunion-transports").first()
    accounts = [mastodon, bluesky]
    published = posts.post_save(
        campaign=campaign,
        values=posts.PostValues(text=PUBLISHED, accounts=accounts, target=cafe),
        actor=actor,
    )
    out_at = (cafe.starts_at if cafe else timezone.now()) - datetime.timedelta(days=4)
    Post.objects.filter(pk=published.pk).update(status=Post.Status.PUBLISHED, published_at=out_at)
    remote = {
        "mastodon": ("113502447891034567", "https://mastodon.social/@brestencommun/113502447891034567"),
        "bluesky": (
            "at://did:plc:brestencommundemo/app.bsky.feed.post/3lbdemo2cafe",
            "https://bsky.app/profile/brestencommun.bsky.social/post/3lbdemo2cafe",
        ),
    }
    for publication in Publication.objects.filter(post=published):
        remote_id, url = remote[publication.network]
        Publication.objects.filter(pk=publication.pk).update(
            status=Publication.Status.PUBLISHED, remote_id=remote_id, remote_url=url, published_at=out_at, attempts=1
        )
    if cafe is not None:
        _came_through(campaign, published, cafe)

    scheduled = posts.post_save(
        campaign=campaign,
        values=posts.PostValues(
            text=SCHEDULED, accounts=accounts, versions={bluesky.pk: SCHEDULED_BLUESKY}, target=petition
        ),
        actor=actor,
    )
    local = timezone.localtime(timezone.now() + datetime.timedelta(days=3))
    posts.post_schedule(
        post=scheduled,
        at=local.replace(hour=18, minute=0, second=0, microsecond=0),
        actor=actor,
    )
    posts.post_save(
        campaign=campaign,
        values=posts.PostValues(text=DRAFT, accounts=[mastodon], target=meeting),
        actor=actor,
    )


def _came_through(campaign: Campaign, post: Post, event: Event) -> None:
    """Some of the café's RSVPs came through the post (two thirds from Mastodon), and the
    post's links were opened over the days before."""
    rsvps = list(RSVP.objects.filter(event=event).order_by("pk").values_list("pk", flat=True)[:18])
    for index, rsvp_id in enumerate(rsvps):
        network = "bluesky" if index % 3 == 2 else "mastodon"
        RSVP.objects.filter(pk=rsvp_id).update(referral=referral(post, network))
    today = timezone.localdate()
    PageView.objects.bulk_create(
        PageView(
            campaign=campaign,
            page=f"via:{referral(post, network)}",
            day=today - datetime.timedelta(days=back),
            count=count,
        )
        for network, base in (("mastodon", 31), ("bluesky", 12))
        for back, count in ((10, base), (9, base // 2), (8, base // 3))
    )
