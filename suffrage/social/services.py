"""Writes on social networks: the campaign's accounts (tokens encrypted, never shown
back), imports of exports and of followers read through an API (both become import
batches), and the organisers' decisions on suggested matches. Audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User
from suffrage.core.secrets import decrypt_json, encrypt_json
from suffrage.imports.models import ImportBatch
from suffrage.imports.services import batch_create
from suffrage.people.models import LegalBasis, SocialProfile
from suffrage.social import exports
from suffrage.social.importing import arrival_record, records_csv, social_contact_create
from suffrage.social.models import Network, ProfileSuggestion, SocialAccount
from suffrage.social.records import ApiError, ExportError, ParseResult

# Followers read through an API in one request; beyond, the platform's export file.
FOLLOWERS_LIMIT = 5000
SECRET_FIELDS = {
    Network.MASTODON: ("token",),
    Network.BLUESKY: ("app_password",),
    Network.FACEBOOK: ("page_token", "app_secret", "verify_token"),
}


# --- Accounts --------------------------------------------------------------------------------


@transaction.atomic
def account_save(
    *, campaign: Campaign, values: dict[str, Any], actor: User, account: SocialAccount | None = None
) -> SocialAccount:
    """Create or change an account. A secret left blank keeps its stored value."""
    account = account or SocialAccount(campaign=campaign, network=values["network"])
    for key in ("name", "handle", "server"):
        setattr(account, key, values.get(key, "") or "")
    if account.network == Network.MASTODON:
        account.character_limit = values.get("character_limit") or None
    secrets = decrypt_json(account.secrets)
    for name in SECRET_FIELDS[Network(account.network)]:
        if values.get(name):
            secrets[name] = values[name]
    account.secrets = encrypt_json(secrets)
    created = account.pk is None
    account.save()
    audit_record(
        action="social_account.create" if created else "social_account.update",
        campaign=campaign,
        obj=account,
        actor=actor,
        changes={"network": account.network, "handle": account.handle, "secrets": sorted(secrets)},
    )
    return account


def client_for(account: SocialAccount) -> Any:
    """The API client of this account, with its decrypted credentials."""
    from suffrage.social.clients.bluesky import BlueskyClient
    from suffrage.social.clients.facebook import GraphClient
    from suffrage.social.clients.mastodon import MastodonClient

    secrets = decrypt_json(account.secrets)
    if account.network == Network.MASTODON:
        return MastodonClient(account.server, secrets.get("token", ""))
    if account.network == Network.BLUESKY:
        options = {"service": account.server} if account.server else {}
        return BlueskyClient(handle=account.handle, app_password=secrets.get("app_password", ""), **options)
    graph = {"base_url": account.server} if account.server else {}  # a pinned Graph API version
    return GraphClient(account.handle, secrets.get("page_token", ""), app_secret=secrets.get("app_secret", ""), **graph)


# --- Imports -----------------------------------------------------------------------------------


def records_batch(
    *, campaign: Campaign, result: ParseResult, name: str, detail: str, legal_basis: str, actor: User
) -> ImportBatch:
    if not result.records and not result.problems:
        raise ValidationError(_("Nothing to import: the list is empty."))
    upload = ContentFile(records_csv(result), name=f"{name}.csv")
    batch = batch_create(campaign=campaign, upload=upload, actor=actor, kind="social")
    batch.original_name = name
    batch.source = "social"
    batch.legal_basis = legal_basis or LegalBasis.LEGITIMATE_INTEREST
    batch.settings = {"source_detail": detail}
    batch.save(update_fields=["original_name", "source", "legal_basis", "settings"])
    return batch


def export_upload(*, campaign: Campaign, kind: str, upload: Any, legal_basis: str, actor: User) -> ImportBatch:
    """A platform's export file, read and turned into an import batch to check and run."""
    data = upload.read()
    try:
        result = exports.parse_export(kind, data, upload.name or "")
    except ExportError as error:
        raise ValidationError(str(error)) from error
    label = str(exports.EXPORT_KINDS[kind])
    detail = f"{label} ({upload.name})" if upload.name else label
    return records_batch(
        campaign=campaign, result=result, name=upload.name or kind, detail=detail, legal_basis=legal_basis, actor=actor
    )


def followers_fetch(*, account: SocialAccount, actor: User) -> ImportBatch:
    """The followers of a Mastodon or Bluesky account, read through the public API."""
    if account.network not in (Network.MASTODON, Network.BLUESKY):
        raise ValidationError(_("Followers can be read this way from Mastodon and Bluesky only."))
    try:
        records = list(client_for(account).followers(account.handle, limit=FOLLOWERS_LIMIT))
    except ApiError as error:
        SocialAccount.objects.filter(pk=account.pk).update(last_error=str(error)[:300])
        raise ValidationError(
            _("%(network)s answered: %(error)s") % {"network": account.get_network_display(), "error": error}
        ) from error
    detail = _("Followers of %(account)s on %(network)s") % {
        "account": account.handle,
        "network": account.get_network_display(),
    }
    return records_batch(
        campaign=account.campaign,
        result=ParseResult(records=records),
        name=f"{account.network}-followers",
        detail=detail,
        legal_basis=LegalBasis.LEGITIMATE_INTEREST,
        actor=actor,
    )


# --- Suggested matches ----------------------------------------------------------------------------


@transaction.atomic
def suggestion_decide(*, suggestion: ProfileSuggestion, same: bool, actor: User) -> None:
    """Same person: the profile joins them. Someone else: a social-only contact is created."""
    suggestion = ProfileSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != ProfileSuggestion.Status.PENDING:
        raise ValidationError(_("This suggestion has been decided already."))
    values = {
        "network": suggestion.network,
        "handle": suggestion.handle,
        "url": suggestion.url,
        "display_name": suggestion.display_name,
    }
    if same:
        SocialProfile.objects.get_or_create(
            person=suggestion.candidate, network=suggestion.network, handle=suggestion.handle, url=suggestion.url
        )
        person = suggestion.candidate
    else:
        person = social_contact_create(
            suggestion.campaign, values, detail=suggestion.source_detail, legal_basis=LegalBasis.LEGITIMATE_INTEREST
        )
    arrival_record(suggestion.campaign_id, suggestion.network, person.pk)
    suggestion.status = ProfileSuggestion.Status.CONFIRMED if same else ProfileSuggestion.Status.REFUSED
    suggestion.decided_by = actor
    suggestion.save(update_fields=["status", "decided_by"])
    audit_record(
        action="social.suggestion_confirm" if same else "social.suggestion_refuse",
        campaign=suggestion.campaign,
        obj=person,
        actor=actor,
        changes={"network": suggestion.network, "handle": suggestion.handle},
    )


# --- Lead Ads webhook -----------------------------------------------------------------------------


def leads_receive(*, account: SocialAccount, leadgen_ids: list[str]) -> int:
    """Leads announced by Meta's webhook (read by a task, not in the webhook's request):
    each read from the Graph API and brought in like a Lead Ads file's row (found by
    email or phone, the platform's consent kept). Returns how many arrived; one that
    cannot be read is logged on the account."""
    from suffrage.social.importing import Arrivals, record_values

    client = client_for(account)
    detail = _("Lead Ads (%(page)s)") % {"page": account.name}
    arrivals = Arrivals(account.campaign, detail, LegalBasis.LEGITIMATE_INTEREST)
    count = 0
    for leadgen_id in leadgen_ids:
        try:
            record = client.lead(leadgen_id)
        except ApiError as error:
            SocialAccount.objects.filter(pk=account.pk).update(last_error=str(error)[:300])
            continue
        with transaction.atomic():
            arrivals.arrive(record_values(record))
        count += 1
    if count:
        audit_record(action="social.leads_received", campaign=account.campaign, obj=account, changes={"leads": count})
    return count
