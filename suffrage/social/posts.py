"""Writes on posts: composing (the text once, a version per account where needed, an
image, a link), publishing now or at a set time, cancelling, deleting; and the
publishing itself, done by a task and by the periodic tick (`manage.py social_tick`).

Publishing never goes out twice to one account:
- each (post, account) is one `Publication` row, claimed by a conditional UPDATE
  (waiting → sending) before the network is called; whoever does not win the claim
  leaves it alone;
- a network that asks to wait (a rate limit) gets the row back as waiting until the
  time it gave; an expired or missing token fails the row with a clear message, shown
  on the post and on the account;
- a claim left by a worker that died is never simply tried again: Mastodon's is (with
  the same Idempotency-Key, which Mastodon honours for an hour); any other fails,
  telling to look on the network before trying again.

Electoral silence (Code électoral L49): nothing is published while it lasts. "Publish
now" is refused; a time inside it is refused when scheduling; a scheduled post that
falls due inside it (an election added after it was scheduled) is not published after
the silence either — what was written for before the vote rarely suits after it — but
stays blocked, with the reason, until someone publishes it again or deletes it.

Every write is audited; publishing outcomes too, per account."""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.models import CalendarElection, Campaign, User
from suffrage.core.secrets import decrypt_json
from suffrage.engagement.models import Action, CallToAction, Event, Status
from suffrage.messaging.schedule import silence_at
from suffrage.social.clients.http import image_type
from suffrage.social.limits import length_problem, published_text
from suffrage.social.links import post_link
from suffrage.social.models import Network, Post, Publication, SocialAccount
from suffrage.social.records import ApiError, Published, RateLimited, TokenExpired
from suffrage.social.services import client_for

# A claim older than this was left by a worker that died.
CLAIM_TIMEOUT = datetime.timedelta(minutes=15)
# Mastodon publishes a status once per Idempotency-Key for an hour.
MASTODON_IDEMPOTENCY = datetime.timedelta(hours=1)
# A rate limit that does not say until when; and the bounds of any wait.
RETRY_DEFAULT = datetime.timedelta(minutes=5)
RETRY_MIN = datetime.timedelta(seconds=30)
RETRY_MAX = datetime.timedelta(hours=24)
MAX_ATTEMPTS = 10

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
IMAGE_MAX_BYTES = 8 * 1024 * 1024
# Smaller limits of some networks: Bluesky's image blobs (app.bsky.embed.images),
# Meta's advice for Page photos.
IMAGE_NETWORK_BYTES = {Network.BLUESKY: 1_000_000, Network.FACEBOOK: 4 * 1024 * 1024}
# The secret each network's publishing needs (services.SECRET_FIELDS names them all).
PUBLISHING_SECRET = {Network.MASTODON: "token", Network.BLUESKY: "app_password", Network.FACEBOOK: "page_token"}


# --- Composing ---------------------------------------------------------------------------------


@dataclass
class PostValues:
    """What the composer gives: `versions` is each account's own text ("" or missing:
    the post's text); `image` a new upload, `remove_image` to drop the current one."""

    text: str
    accounts: list[SocialAccount]
    versions: dict[int, str] = field(default_factory=dict)
    target: Any = None  # an Action, Event or CallToAction of the campaign
    url: str = ""
    image: Any = None
    remove_image: bool = False
    image_alt: str = ""


def silence_message(election: CalendarElection, end: datetime.datetime) -> str:
    zone = zoneinfo.ZoneInfo(election.campaign.time_zone)
    return _("Electoral silence for “%(election)s”: nothing is published until %(end)s.") % {
        "election": election.name,
        "end": date_format(timezone.localtime(end, zone), "SHORT_DATETIME_FORMAT"),
    }


def silence_now(campaign: Campaign, moment: datetime.datetime | None = None) -> str:
    """Why nothing may be published at this moment ("" when it may)."""
    silence = silence_at(campaign, moment or timezone.now())
    return silence_message(*silence) if silence is not None else ""


def _image_problem(upload: Any, accounts: list[SocialAccount]) -> str:
    head = upload.read(16)
    upload.seek(0)
    kind = image_type(head, "")
    if kind not in IMAGE_TYPES:
        return _("The image must be a PNG, JPEG, GIF or WebP file.")
    size = int(upload.size or 0)
    if size > IMAGE_MAX_BYTES:
        return _("The image is too large: %(size)s MB, 8 MB at most.") % {"size": round(size / 1_048_576, 1)}
    return _too_large_for(size, accounts)


def _too_large_for(size: int, accounts: list[SocialAccount]) -> str:
    """Why an image of `size` bytes cannot go to one of these accounts' networks, or ""."""
    for account in accounts:
        limit = IMAGE_NETWORK_BYTES.get(Network(account.network))
        if limit is not None and size > limit:
            return _("The image is too large for %(network)s: %(size)s KB, %(limit)s KB at most.") % {
                "network": account.get_network_display(),
                "size": round(size / 1000),
                "limit": round(limit / 1000),
            }
    return ""


def _stored_image_problem(post: Post, accounts: list[SocialAccount]) -> str:
    if not post.image:
        return ""
    try:
        size = post.image.size
    except OSError:
        return _("The image of this post is missing from the server: add it again.")
    return _too_large_for(size, accounts)


def _length_errors(post: Post, accounts: list[SocialAccount], versions: dict[int, str]) -> dict[str, list[str]]:
    """{form field: problems}: a version too long is named on its own field, the
    post's text when the account uses it."""
    errors: dict[str, list[str]] = {}
    for account in accounts:
        version = versions.get(account.pk, "")
        body = version if version.strip() else post.text
        problem = length_problem(account, published_text(body, post_link(post, account.network)))
        if problem:
            errors.setdefault(f"text_{account.pk}" if version.strip() else "text", []).append(problem)
    return errors


def _link_problem(post: Post) -> str:
    """A link to one of the campaign's pages that nobody can open yet."""
    target = post.target
    if target is None:
        return ""
    if target.status == Status.DRAFT:  # forms, events and calls to action alike
        return _("The page this post links to (“%(title)s”) is still a draft: open it first.") % {"title": target.title}
    return ""


@transaction.atomic
def post_save(*, campaign: Campaign, values: PostValues, actor: User, post: Post | None = None) -> Post:
    """Create or change a post and its accounts; refused once any of it is published."""
    if post is not None:
        post = Post.objects.select_for_update().get(pk=post.pk)
        if not post.is_editable:
            raise ValidationError(_("This post is already out (in part): it can no longer change."))
    post = post or Post(campaign=campaign, author=actor)
    # Browsers send line breaks as CR LF; the networks and the composer's counters count LF.
    values.text = _lines(values.text)
    values.versions = {key: _lines(text) for key, text in values.versions.items()}
    errors: dict[str, list[str]] = {}
    if not values.text.strip():
        errors["text"] = [_("Write the post's text.")]
    if not values.accounts:
        errors["accounts"] = [_("Choose at least one account to publish on.")]
    if any(account.campaign_id != campaign.pk for account in values.accounts):
        raise ValidationError(_("This account is not one of the campaign's."))
    target = values.target
    if target is not None and target.campaign_id != campaign.pk:
        raise ValidationError(_("This page is not one of the campaign's."))
    if target is not None and values.url.strip():
        errors["url"] = [_("Link to one of the campaign's pages or to an address, not both.")]
    if values.image is not None:
        problem = _image_problem(values.image, values.accounts)
        if problem:
            errors["image"] = [problem]
    elif not values.remove_image:
        problem = _stored_image_problem(post, values.accounts)
        if problem:
            errors["image"] = [problem]
    created = post.pk is None
    post.text = values.text.strip()
    post.action = target if isinstance(target, Action) else None
    post.event = target if isinstance(target, Event) else None
    post.call = target if isinstance(target, CallToAction) else None
    post.url = "" if target is not None else values.url.strip()
    post.image_alt = values.image_alt.strip()
    if not errors:
        errors.update(_length_errors(post, values.accounts, values.versions))
    if errors:
        raise ValidationError(errors)
    _image_replace(post, values)
    post.save()
    _publications_set(post, values)
    audit_record(
        action="social_post.create" if created else "social_post.update",
        campaign=campaign,
        obj=post,
        actor=actor,
        changes={"accounts": sorted(account.pk for account in values.accounts), "link": post_link(post, "")},
    )
    return post


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _image_replace(post: Post, values: PostValues) -> None:
    old = post.image.name if post.image else ""
    if values.image is not None:
        kind = image_type(values.image.read(16), "")
        values.image.seek(0)
        extension = {"image/png": "png", "image/gif": "gif", "image/webp": "webp"}.get(kind, "jpg")
        post.image.save(f"{uuid.uuid4().hex}.{extension}", ContentFile(values.image.read()), save=False)
        post.image_name = (values.image.name or "")[-200:]
    elif values.remove_image:
        post.image = ""
        post.image_name = ""
    if old and old != (post.image.name if post.image else ""):
        storage = post.image.storage
        transaction.on_commit(lambda: storage.delete(old))


def _publications_set(post: Post, values: PostValues) -> None:
    chosen = {account.pk: account for account in values.accounts}
    Publication.objects.filter(post=post).exclude(account_id__in=list(chosen)).delete()
    for account in values.accounts:
        Publication.objects.update_or_create(
            post=post,
            account=account,
            defaults={"network": account.network, "text": values.versions.get(account.pk, "").strip()},
        )


def _ready(post: Post) -> None:
    """What publishing needs, checked before any is queued."""
    publications = list(post.publications.select_related("account"))
    if not publications:
        raise ValidationError(_("Choose at least one account to publish on."))
    problems = [_link_problem(post), _stored_image_problem(post, [p.account for p in publications])]
    versions = {p.account_id: p.text for p in publications}
    for fields in _length_errors(post, [p.account for p in publications], versions).values():
        problems += fields
    problems = [problem for problem in problems if problem]
    if problems:
        raise ValidationError(problems)


def _locked(post: Post) -> Post:
    # Only the post's row is locked: its links are nullable (PostgreSQL locks no outer join).
    return (
        Post.objects.select_for_update(of=("self",))
        .select_related("campaign", "action", "event", "call")
        .get(pk=post.pk)
    )


@transaction.atomic
def post_publish(*, post: Post, actor: User) -> Post:
    """Publish now: every account it is not yet out on (after a failure, again)."""
    post = _locked(post)
    if post.status == Post.Status.PUBLISHING:
        raise ValidationError(_("This post is being published."))
    if post.status == Post.Status.PUBLISHED:
        raise ValidationError(_("This post is already published on every account."))
    refusal = silence_now(post.campaign)
    if refusal:
        raise ValidationError(refusal)
    _ready(post)
    now = timezone.now()
    post.publications.exclude(status=Publication.Status.PUBLISHED).update(
        status=Publication.Status.WAITING, next_attempt_at=now, error="", claimed_at=None
    )
    post.status = Post.Status.PUBLISHING
    if post.published_at is None:
        post.scheduled_at = None  # published at once: it leaves the planned ones
    post.save(update_fields=["status", "scheduled_at", "updated_at"])
    audit_record(action="social_post.publish", campaign=post.campaign, obj=post, actor=actor)
    _enqueue(post.pk)
    return post


@transaction.atomic
def post_schedule(*, post: Post, at: datetime.datetime, actor: User) -> Post:
    """Publish at `at` (the tick publishes it when due). A time in the electoral silence is refused."""
    post = _locked(post)
    if not post.is_editable:
        raise ValidationError(_("This post is already out (in part): publish what is left now instead."))
    if at <= timezone.now():
        raise ValidationError(_("Choose a time in the future."))
    silence = silence_at(post.campaign, at)
    if silence is not None:
        raise ValidationError(
            _("This time falls in the electoral silence: %(why)s") % {"why": silence_message(*silence)}
        )
    _ready(post)
    post.publications.exclude(status=Publication.Status.PUBLISHED).update(
        status=Publication.Status.WAITING, next_attempt_at=None, error="", claimed_at=None
    )
    post.status, post.scheduled_at = Post.Status.SCHEDULED, at
    post.save(update_fields=["status", "scheduled_at", "updated_at"])
    audit_record(
        action="social_post.schedule", campaign=post.campaign, obj=post, actor=actor, changes={"at": at.isoformat()}
    )
    return post


@transaction.atomic
def post_cancel(*, post: Post, actor: User) -> Post:
    """A scheduled post goes back to the drafts."""
    cancelled = Post.objects.filter(pk=post.pk, status=Post.Status.SCHEDULED).update(
        status=Post.Status.DRAFT, scheduled_at=None, updated_at=timezone.now()
    )
    if not cancelled:
        raise ValidationError(_("This post is not scheduled."))
    audit_record(action="social_post.cancel", campaign=post.campaign, obj=post, actor=actor)
    post.refresh_from_db()
    return post


@transaction.atomic
def post_delete(*, post: Post, actor: User) -> None:
    post = _locked(post)
    if not post.is_editable:
        raise ValidationError(_("This post is already out (in part): it stays, as the record of what was published."))
    image = post.image.name if post.image else ""
    storage = post.image.storage
    audit_record(
        action="social_post.delete", campaign=post.campaign, obj=post, actor=actor, changes={"text": post.text[:200]}
    )
    post.delete()
    if image:
        transaction.on_commit(lambda: storage.delete(image))


def _enqueue(post_id: int) -> None:
    from suffrage.social.tasks import post_publish_task

    transaction.on_commit(lambda: post_publish_task.enqueue(post_id))


# --- Publishing --------------------------------------------------------------------------------


def idempotency_key(publication: Publication) -> str:
    """The same for every attempt at this publication: Mastodon publishes it once."""
    return f"suffrage-{publication.post.code}-{publication.pk}"


def _settle(post: Post) -> datetime.datetime | None:
    """The post's status from its publications' once none is left to do. While some
    wait, when the next one is due (None while the others are being published: their
    worker settles the post)."""
    rows = list(Publication.objects.filter(post=post).values_list("status", "next_attempt_at"))
    statuses = {status for status, _next in rows}
    if statuses & {Publication.Status.WAITING, Publication.Status.SENDING}:
        now = timezone.now()
        due = [at or now for status, at in rows if status == Publication.Status.WAITING]
        return min(due) if due else None
    if statuses == {Publication.Status.PUBLISHED}:
        outcome = Post.Status.PUBLISHED
    elif Publication.Status.PUBLISHED in statuses:
        outcome = Post.Status.PARTIAL
    elif Publication.Status.BLOCKED in statuses:
        outcome = Post.Status.BLOCKED
    else:
        outcome = Post.Status.FAILED
    Post.objects.filter(pk=post.pk, status=Post.Status.PUBLISHING).update(status=outcome, updated_at=timezone.now())
    return None


def publications_run(post_id: int) -> datetime.datetime | None:
    """What the task does: publish the post on each account that is due. Returns when
    to come back (a network asked to wait), or None when nothing is left."""
    post = Post.objects.select_related("campaign", "action", "event", "call").filter(pk=post_id).first()
    if post is None or post.status != Post.Status.PUBLISHING:
        return None
    now = timezone.now()
    due = list(
        Publication.objects.filter(post=post, status=Publication.Status.WAITING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .select_related("account")
        .order_by("pk")
    )
    image = b""
    if due and post.image:
        try:
            with post.image.open("rb") as stored:
                image = stored.read()
        except OSError:
            missing = _("The image of this post is missing from the server: add it again.")
            Publication.objects.filter(pk__in=[p.pk for p in due], status=Publication.Status.WAITING).update(
                status=Publication.Status.FAILED, error=missing
            )
            return _settle(post)
    for publication in due:
        publication.post = post
        publication_publish(publication, image=image)
    return _settle(post)


def _claim(publication: Publication, now: datetime.datetime) -> bool:
    claimed = (
        Publication.objects.filter(pk=publication.pk, status=Publication.Status.WAITING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=Publication.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    return claimed == 1


def _release(publication: Publication, **values: Any) -> None:
    Publication.objects.filter(pk=publication.pk, status=Publication.Status.SENDING).update(**values)


def _retry_time(asked: datetime.datetime | None, now: datetime.datetime) -> datetime.datetime:
    at = asked or now + RETRY_DEFAULT
    return min(max(at, now + RETRY_MIN), now + RETRY_MAX)


def _send(publication: Publication, image: bytes) -> Published:
    account, post = publication.account, publication.post
    secret = PUBLISHING_SECRET[Network(account.network)]
    if not decrypt_json(account.secrets).get(secret):
        raise TokenExpired(_("No access token is stored for this account: connect it again on its page."))
    return client_for(account).publish(  # type: ignore[no-any-return]
        publication.body,
        link=post_link(post, account.network),
        image=image or None,
        image_name=post.image_name,
        image_alt=post.image_alt,
        idempotency_key=idempotency_key(publication),
    )


def publication_publish(publication: Publication, *, image: bytes = b"") -> str:
    """Publish on one account, if this worker wins the claim; the row's new status."""
    post, account = publication.post, publication.account
    now = timezone.now()
    refusal = silence_now(post.campaign, now)
    if refusal:
        Publication.objects.filter(pk=publication.pk, status=Publication.Status.WAITING).update(
            status=Publication.Status.BLOCKED, error=refusal[:500]
        )
        return Publication.Status.BLOCKED
    if not _claim(publication, now):
        return ""
    try:
        published = _send(publication, image)
    except RateLimited as error:
        if publication.attempts + 1 >= MAX_ATTEMPTS:
            return _failed(
                publication, _("Still asked to wait after %(count)s tries: try again later.") % {"count": MAX_ATTEMPTS}
            )
        _release(
            publication,
            status=Publication.Status.WAITING,
            next_attempt_at=_retry_time(error.retry_at, now),
            error=str(error)[:500],
        )
        return Publication.Status.WAITING
    except TokenExpired as error:
        SocialAccount.objects.filter(pk=account.pk).update(last_error=str(error)[:300])
        return _failed(publication, str(error))
    except ApiError as error:
        return _failed(publication, str(error))
    done = timezone.now()
    _release(
        publication,
        status=Publication.Status.PUBLISHED,
        remote_id=published.remote_id[:300],
        remote_url=published.url[:500],
        published_at=done,
        next_attempt_at=None,
        error="",
    )
    Post.objects.filter(pk=post.pk, published_at__isnull=True).update(published_at=done)
    SocialAccount.objects.filter(pk=account.pk).exclude(last_error="").update(last_error="")
    audit_record(
        action="social_post.published",
        campaign=post.campaign,
        obj=post,
        changes={"account": account.pk, "network": account.network, "url": published.url},
    )
    return Publication.Status.PUBLISHED


def _failed(publication: Publication, message: str) -> str:
    _release(publication, status=Publication.Status.FAILED, error=message[:500], next_attempt_at=None)
    audit_record(
        action="social_post.failed",
        campaign=publication.post.campaign,
        obj=publication.post,
        changes={"account": publication.account_id, "error": message[:300]},
    )
    return Publication.Status.FAILED


# --- The tick ----------------------------------------------------------------------------------


def _scheduled_start(post_id: int, now: datetime.datetime) -> bool:
    """A scheduled post falls due: it starts publishing, or is blocked by the silence."""
    post = Post.objects.select_related("campaign", "action", "event", "call").get(pk=post_id)
    with transaction.atomic():
        started = Post.objects.filter(pk=post.pk, status=Post.Status.SCHEDULED).update(
            status=Post.Status.PUBLISHING, updated_at=now
        )
        if not started:
            return False
        pending = Publication.objects.filter(post=post).exclude(status=Publication.Status.PUBLISHED)
        refusal = silence_now(post.campaign, now)
        if refusal:
            pending.update(status=Publication.Status.BLOCKED, error=refusal[:500])
            audit_record(action="social_post.blocked", campaign=post.campaign, obj=post, changes={"why": refusal})
        elif _link_problem(post):
            pending.update(status=Publication.Status.FAILED, error=_link_problem(post)[:500])
        else:
            pending.update(status=Publication.Status.WAITING, next_attempt_at=None)
        post.status = Post.Status.PUBLISHING
        _settle(post)
    return True


def _stale_claims_release(now: datetime.datetime) -> None:
    stale = Publication.objects.filter(status=Publication.Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    for publication in stale.select_related("post", "account"):
        same_claim = Publication.objects.filter(
            pk=publication.pk, status=Publication.Status.SENDING, claimed_at=publication.claimed_at
        )
        safe_again = (
            publication.network == Network.MASTODON
            and publication.claimed_at is not None
            and publication.claimed_at >= now - MASTODON_IDEMPOTENCY
        )
        if safe_again:
            same_claim.update(status=Publication.Status.WAITING, next_attempt_at=now)
            continue
        message = _(
            "Interrupted while publishing: look on %(network)s whether the post is there before publishing again."
        ) % {"network": publication.account.get_network_display()}
        if same_claim.update(status=Publication.Status.FAILED, error=message):
            audit_record(
                action="social_post.failed",
                campaign=publication.post.campaign,
                obj=publication.post,
                changes={"account": publication.account_id, "error": "interrupted"},
            )
            _settle(publication.post)


def social_tick(*, now: datetime.datetime | None = None) -> int:
    """Start the scheduled posts that are due, come back to what a network asked to wait
    for, and pick up what a dead worker left. Safe to run twice at once (every row is
    claimed). Returns how many posts were worked on."""
    now = now or timezone.now()
    _stale_claims_release(now)
    for post_id in Post.objects.filter(status=Post.Status.SCHEDULED, scheduled_at__lte=now).values_list(
        "pk", flat=True
    ):
        _scheduled_start(post_id, now)
    due = (
        Publication.objects.filter(post__status=Post.Status.PUBLISHING, status=Publication.Status.WAITING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .values_list("post_id", flat=True)
        .distinct()
    )
    post_ids = sorted(set(due))
    for post_id in post_ids:
        _enqueue(post_id)
    # A post whose last publications were settled by a stale claim's release.
    for post in Post.objects.filter(status=Post.Status.PUBLISHING).exclude(pk__in=post_ids):
        _settle(post)
    return len(post_ids)
