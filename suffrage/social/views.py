"""Social-network pages: the campaign's accounts, importing an export file or the
followers of an account (both go on to the import pages), the suggested matches
waiting for a decision; the posts (composer, preview, publishing now or later), their
calendar, and the reports of who came from each network and each post."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can
from suffrage.core.forms import errors_to_form
from suffrage.engagement.forms import in_zone
from suffrage.engagement.selectors import SMALLEST_SHOWN
from suffrage.social import limits, links, posts, selectors, services
from suffrage.social.clients.http import image_type
from suffrage.social.forms import AccountForm, ExportForm, PostForm, ScheduleForm
from suffrage.social.models import Network, Post, ProfileSuggestion, SocialAccount, new_post_code


@campaign_view("social.view_social")
def home(request: CampaignRequest) -> HttpResponse:
    suggestions = ProfileSuggestion.objects.filter(campaign=request.campaign, status=ProfileSuggestion.Status.PENDING)
    context = {
        "accounts": SocialAccount.objects.filter(campaign=request.campaign),
        "form": ExportForm(),
        "pending": suggestions.count(),
        "can_import": can(request, "social.import_social") and can(request, "people.import_people"),
        "readable": (Network.MASTODON, Network.BLUESKY),
        **_post_context(request),
    }
    return render(request, "social/home.html", context)


@campaign_view("social.import_social", methods=("POST",))
def export_upload(request: CampaignRequest) -> HttpResponseBase:
    if not can(request, "people.import_people"):
        messages.error(request, _("Your role does not allow this."))
        return redirect("social:home", request.campaign.slug)
    form = ExportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("social:home", request.campaign.slug)
    try:
        batch = services.export_upload(
            campaign=request.campaign,
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
            legal_basis=form.cleaned_data["legal_basis"],
            actor=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("social:home", request.campaign.slug)
    return redirect("imports:detail", request.campaign.slug, batch.pk)


@campaign_view("social.import_social", methods=("POST",))
def followers_fetch(request: CampaignRequest, account_id: int) -> HttpResponseBase:
    account = campaign_object_or_404(SocialAccount, request.campaign, pk=account_id)
    if not can(request, "people.import_people"):
        messages.error(request, _("Your role does not allow this."))
        return redirect("social:home", request.campaign.slug)
    try:
        batch = services.followers_fetch(account=account, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("social:home", request.campaign.slug)
    return redirect("imports:detail", request.campaign.slug, batch.pk)


@campaign_view("social.configure_social")
def account_edit(request: CampaignRequest, account_id: int | None = None) -> HttpResponseBase:
    account = campaign_object_or_404(SocialAccount, request.campaign, pk=account_id) if account_id else None
    form = AccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_save(
                campaign=request.campaign, values=form.cleaned_data, actor=request.user, account=account
            )
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Account saved."))
            return redirect("social:home", request.campaign.slug)
    webhook = f"{settings.SITE_URL}/hooks/social/{account.webhook_key}/" if account else ""
    return render(request, "social/account_form.html", {"form": form, "account": account, "webhook": webhook})


@campaign_view("social.import_social")
def suggestions(request: CampaignRequest) -> HttpResponse:
    pending = ProfileSuggestion.objects.filter(
        campaign=request.campaign, status=ProfileSuggestion.Status.PENDING
    ).select_related("candidate")
    return render(request, "social/suggestions.html", {"suggestions": pending[:200]})


@campaign_view("social.import_social", methods=("POST",))
def suggestion_decide(request: CampaignRequest, suggestion_id: int) -> HttpResponseBase:
    suggestion = campaign_object_or_404(ProfileSuggestion, request.campaign, pk=suggestion_id)
    try:
        services.suggestion_decide(suggestion=suggestion, same=request.POST.get("same") == "1", actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("social:suggestions", request.campaign.slug)


# --- Posts -------------------------------------------------------------------------------------


def _post_context(request: CampaignRequest) -> dict[str, Any]:
    return {
        "can_publish": can(request, "social.publish_social"),
        "can_configure": can(request, "social.configure_social"),
        "silence": posts.silence_now(request.campaign),
    }


@campaign_view("social.view_social")
def post_list(request: CampaignRequest) -> HttpResponse:
    found = (
        Post.objects.filter(campaign=request.campaign)
        .select_related("action", "event", "call")
        .prefetch_related("publications__account")[:200]
    )
    return render(request, "social/posts.html", {"posts": found, **_post_context(request)})


def request_list(data: Any, name: str) -> list[Any]:
    return list(data.getlist(name)) if hasattr(data, "getlist") else list(data.get(name) or [])


def _account_rows(form: PostForm) -> list[dict[str, Any]]:
    """Each account of the composer: whether it is chosen, its own version, its limit."""
    if form.is_bound:
        chosen = {str(value) for value in request_list(form.data, "accounts")}
    else:
        chosen = {str(value) for value in form.initial.get("accounts", [])}
    return [
        {
            "account": account,
            "chosen": str(account.pk) in chosen,
            "version": form.version_field(account),
            "limit": limits.rule_for(account).limit,
            "max_bytes": limits.rule_for(account).max_bytes or "",
        }
        for account in form.account_list
    ]


@campaign_view("social.publish_social")
def post_edit(request: CampaignRequest, post_id: int | None = None) -> HttpResponseBase:
    post = campaign_object_or_404(Post, request.campaign, pk=post_id) if post_id else None
    if post is not None and not post.is_editable:
        messages.error(request, _("This post is already out (in part): it can no longer change."))
        return redirect("social:post_detail", request.campaign.slug, post.pk)
    code = post.code if post is not None else new_post_code()
    data = (request.POST, request.FILES) if request.method == "POST" else ()
    form = PostForm(*data, campaign=request.campaign, post=post, code=code)
    if request.method == "POST" and form.is_valid():
        values = posts.PostValues(
            text=form.cleaned_data["text"],
            accounts=list(form.cleaned_data["accounts"]),
            versions=form.versions(),
            target=form.cleaned_data["target"],
            url=form.cleaned_data["url"] or "",
            image=form.cleaned_data.get("image"),
            remove_image=bool(form.cleaned_data.get("remove_image")),
            image_alt=form.cleaned_data.get("image_alt") or "",
        )
        try:
            saved = posts.post_save(campaign=request.campaign, values=values, actor=request.user, post=post)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Post saved. Check it below, then publish it now or schedule it."))
            return redirect("social:post_detail", request.campaign.slug, saved.pk)
    context = {"form": form, "post": post, "accounts": _account_rows(form), **_post_context(request)}
    return render(request, "social/post_form.html", context, status=400 if form.errors else 200)


@campaign_view("social.view_social")
def post_detail(request: CampaignRequest, post_id: int) -> HttpResponse:
    post = campaign_object_or_404(
        Post.objects.select_related("action", "event", "call", "author"), request.campaign, pk=post_id
    )
    publications = list(post.publications.select_related("account"))
    previews = [
        {
            "publication": publication,
            "text": limits.published_text(publication.body, links.post_link(post, publication.network)),
            "problem": limits.length_problem(
                publication.account,
                limits.published_text(publication.body, links.post_link(post, publication.network)),
            ),
        }
        for publication in publications
    ]
    scheduled_silence = ""
    if post.status == Post.Status.SCHEDULED and post.scheduled_at:
        scheduled_silence = posts.silence_now(request.campaign, post.scheduled_at)
    context = {
        "post": post,
        "previews": previews,
        "schedule_form": ScheduleForm(),
        "scheduled_silence": scheduled_silence,
        "target_url": links.public_url(post.target) if post.target is not None else "",
        **_post_context(request),
    }
    return render(request, "social/post_detail.html", context)


@campaign_view("social.view_social", methods=("GET",))
def post_image(request: CampaignRequest, post_id: int) -> HttpResponseBase:
    """The post's image, for the composer's preview (private files: never served as media)."""
    post = campaign_object_or_404(Post, request.campaign, pk=post_id)
    if not post.image:
        raise Http404
    try:
        handle = post.image.open("rb")
    except OSError as error:
        raise Http404 from error
    response = FileResponse(handle, content_type=image_type(handle.read(16), post.image.name))
    handle.seek(0)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _post_action(request: CampaignRequest, post_id: int, act: Callable[[Post], Any], done: str) -> HttpResponseBase:
    post = campaign_object_or_404(Post, request.campaign, pk=post_id)
    try:
        act(post)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("social:post_detail", request.campaign.slug, post.pk)


@campaign_view("social.publish_social", methods=("POST",))
def post_publish(request: CampaignRequest, post_id: int) -> HttpResponseBase:
    return _post_action(
        request,
        post_id,
        lambda post: posts.post_publish(post=post, actor=request.user),
        _("Publishing: each account's outcome shows below."),
    )


@campaign_view("social.publish_social", methods=("POST",))
def post_schedule(request: CampaignRequest, post_id: int) -> HttpResponseBase:
    form = ScheduleForm(request.POST)

    def schedule(post: Post) -> None:
        if not form.is_valid():
            raise ValidationError(_("Give the date and time to publish on."))
        at = in_zone(form.cleaned_data["at"], zoneinfo.ZoneInfo(request.campaign.time_zone))
        posts.post_schedule(post=post, at=at, actor=request.user)

    return _post_action(request, post_id, schedule, _("Post scheduled."))


@campaign_view("social.publish_social", methods=("POST",))
def post_cancel(request: CampaignRequest, post_id: int) -> HttpResponseBase:
    return _post_action(
        request,
        post_id,
        lambda post: posts.post_cancel(post=post, actor=request.user),
        _("Schedule cancelled: the post is a draft again."),
    )


@campaign_view("social.publish_social", methods=("POST",))
def post_delete(request: CampaignRequest, post_id: int) -> HttpResponseBase:
    post = campaign_object_or_404(Post, request.campaign, pk=post_id)
    try:
        posts.post_delete(post=post, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("social:post_detail", request.campaign.slug, post.pk)
    messages.success(request, _("Post deleted."))
    return redirect("social:post_list", request.campaign.slug)


# --- Calendar and reports ----------------------------------------------------------------------


@campaign_view("social.view_social", methods=("GET",))
def calendar(request: CampaignRequest) -> HttpResponse:
    month = selectors.month_from(request.GET.get("month", ""), request.campaign)
    context = {"month": selectors.calendar_month(request.campaign, month), **_post_context(request)}
    return render(request, "social/calendar.html", context)


@campaign_view("social.view_social", methods=("GET",))
def reports(request: CampaignRequest) -> HttpResponse:
    context = {
        "networks": selectors.network_report(request.campaign),
        "posts": selectors.post_report(request.campaign),
        "smallest": SMALLEST_SHOWN,
        **_post_context(request),
    }
    return render(request, "social/reports.html", context)
