"""Pages of the core app: campaigns, members, settings, calendar, audit log, jobs."""

from __future__ import annotations

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from suffrage.core import services
from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can, permission_table
from suffrage.core.adapters import INVITATION_SESSION_KEY
from suffrage.core.audit import audit_record
from suffrage.core.exports import audit_export_start
from suffrage.core.forms import (
    AuditFilterForm,
    CalendarElectionForm,
    CampaignCreateForm,
    CampaignSettingsForm,
    InvitationForm,
    RoleForm,
)
from suffrage.core.models import CalendarElection, Invitation, Job, Membership, User
from suffrage.core.roles import Role
from suffrage.core.selectors import AUDIT_FILTERS, audit_entries, jobs_visible_to

# --- Outside any campaign -----------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    last = user.last_campaign
    if last is not None and user.memberships.filter(campaign=last).exists():
        return redirect("core:dashboard", last.slug)
    return redirect("core:campaigns")


def _can_create_campaign(user: User) -> bool:
    return user.is_staff or settings.SIGNUP_OPEN


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(request, "core/campaign_list.html", {"can_create": _can_create_campaign(request.user)})  # type: ignore[arg-type]


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not _can_create_campaign(user):
        raise PermissionDenied
    form = CampaignCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = services.campaign_create(owner=user, **form.cleaned_data)
        messages.success(request, _("Campaign created. Add the elections you compete in."))
        return redirect("core:settings", campaign.slug)
    return render(request, "core/campaign_new.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch language; remembered on the account (all devices) and in a cookie."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = redirect(next_url)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax", secure=request.is_secure()
    )
    return response


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(request, "core/invitation_invalid.html", status=404)
    if not request.user.is_authenticated:
        # Remember the invitation through sign-up or sign-in; the address it was
        # sent to is proven by the link, so sign-up with it needs no verification.
        request.session[INVITATION_SESSION_KEY] = token
        get_account_adapter(request).stash_verified_email(request, invitation.email)
        has_account = User.objects.filter(email__iexact=invitation.email).exists()
        return render(
            request,
            "core/invitation_accept.html",
            {"invitation": invitation, "has_account": has_account, "next": request.path},
        )
    if request.method == "POST":
        try:
            membership = services.invitation_accept(invitation=invitation, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            messages.success(request, _("Welcome to %(campaign)s.") % {"campaign": membership.campaign.name})
            return redirect("core:dashboard", membership.campaign.slug)
    return render(request, "core/invitation_accept.html", {"invitation": invitation})


# --- Campaign pages -------------------------------------------------------------


@campaign_view("core.view_dashboard")
def dashboard(request: CampaignRequest) -> HttpResponse:
    context = {
        "elections": request.campaign.elections.all(),
        "member_count": request.campaign.memberships.count(),
        "recent_jobs": jobs_visible_to(request.membership)[:5],
    }
    return render(request, "core/dashboard.html", context)


@campaign_view("core.view_members")
def members(request: CampaignRequest) -> HttpResponse:
    roles = list(Role)
    matrix = [(rule.label, [role in rule.roles for role in roles]) for rule in permission_table().values()]
    context = {
        "memberships": request.campaign.memberships.select_related("user"),
        "invitations": [i for i in request.campaign.invitations.all() if i.is_pending],
        "invite_form": InvitationForm(),
        "roles": roles,
        "role_choices": Role.choices,
        "matrix": matrix,
        "can_manage": can(request, "core.manage_members"),
    }
    return render(request, "core/members.html", context)


@campaign_view("core.manage_members", methods=["POST"])
def member_invite(request: CampaignRequest) -> HttpResponse:
    form = InvitationForm(request.POST)
    if form.is_valid():
        accept_url = request.build_absolute_uri(reverse("core:invitation", args=["TOKEN"])).replace("TOKEN", "{token}")
        try:
            services.invitation_create(
                campaign=request.campaign,
                invited_by=request.user,
                accept_url_template=accept_url,
                **form.cleaned_data,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
    else:
        messages.error(request, _("Check the email address and the role."))
    return redirect("core:members", request.campaign.slug)


@campaign_view("core.manage_members", methods=["POST"])
def member_role(request: CampaignRequest, membership_id: int) -> HttpResponse:
    membership = campaign_object_or_404(Membership, request.campaign, pk=membership_id)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Unknown role."))
        services.membership_change_role(membership=membership, role=form.cleaned_data["role"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Role changed for %(user)s.") % {"user": membership.user})
    return redirect("core:members", request.campaign.slug)


@campaign_view("core.manage_members", methods=["POST"])
def member_remove(request: CampaignRequest, membership_id: int) -> HttpResponse:
    membership = campaign_object_or_404(Membership, request.campaign, pk=membership_id)
    try:
        services.membership_remove(membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(user)s no longer has access.") % {"user": membership.user})
    return redirect("core:members", request.campaign.slug)


@campaign_view("core.manage_members", methods=["POST"])
def invitation_revoke(request: CampaignRequest, invitation_id: int) -> HttpResponse:
    invitation = campaign_object_or_404(Invitation, request.campaign, pk=invitation_id)
    services.invitation_revoke(invitation=invitation)
    messages.success(request, _("Invitation withdrawn."))
    return redirect("core:members", request.campaign.slug)


@campaign_view("core.edit_settings")
def campaign_settings(request: CampaignRequest) -> HttpResponse:
    form = CampaignSettingsForm(request.POST or None, instance=request.campaign)
    if request.method == "POST" and form.is_valid():
        services.campaign_update(campaign=request.campaign, **form.cleaned_data)
        messages.success(request, _("Settings saved."))
        return redirect("core:settings", request.campaign.slug)
    context = {"form": form, "elections": request.campaign.elections.all()}
    return render(request, "core/settings.html", context)


@campaign_view("core.edit_settings")
def election_edit(request: CampaignRequest, election_id: int | None = None) -> HttpResponse:
    election = None
    if election_id is not None:
        election = campaign_object_or_404(CalendarElection, request.campaign, pk=election_id)
    form = CalendarElectionForm(request.POST or None, instance=election)
    if request.method == "POST" and form.is_valid():
        services.calendar_election_save(campaign=request.campaign, election=election, **form.cleaned_data)
        messages.success(request, _("Election calendar saved."))
        return redirect("core:settings", request.campaign.slug)
    return render(request, "core/election_form.html", {"form": form, "election": election})


@campaign_view("core.edit_settings", methods=["POST"])
def election_delete(request: CampaignRequest, election_id: int) -> HttpResponse:
    election = campaign_object_or_404(CalendarElection, request.campaign, pk=election_id)
    services.calendar_election_delete(election=election)
    messages.success(request, _("Election removed from the calendar."))
    return redirect("core:settings", request.campaign.slug)


AUDIT_PAGE_SIZE = 50


@campaign_view("core.view_audit")
def audit_log(request: CampaignRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = {name: request.GET.get(name, "") for name in AUDIT_FILTERS}
    entries = audit_entries(request.campaign, filters).select_related("actor")
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "can_export": can(request, "core.export_audit")}
    return render(request, "core/audit_log.html", context)


@campaign_view("core.export_audit")
@reauthentication_required
def audit_export(request: CampaignRequest) -> HttpResponse:
    """Confirm (GET) then start (POST) an export; both need a recent sign-in or MFA check."""
    source = request.POST if request.method == "POST" else request.GET
    filters = {name: source.get(name, "") for name in AUDIT_FILTERS}
    if request.method == "POST":
        job = audit_export_start(campaign=request.campaign, actor=request.user, filters=filters)
        return redirect("core:job", request.campaign.slug, job.pk)
    count = audit_entries(request.campaign, filters).count()
    return render(request, "core/audit_export.html", {"filters": filters, "count": count})


@campaign_view("core.view_jobs")
def job_list(request: CampaignRequest) -> HttpResponse:
    page = Paginator(jobs_visible_to(request.membership), 25).get_page(request.GET.get("page"))
    return render(request, "core/job_list.html", {"page": page})


def _visible_job(request: CampaignRequest, job_id: int) -> Job:
    job = campaign_object_or_404(Job, request.campaign, pk=job_id)
    if not can(request, job.required_permission):
        raise PermissionDenied
    return job


@campaign_view("core.view_jobs")
def job_detail(request: CampaignRequest, job_id: int) -> HttpResponse:
    return render(request, "core/job_detail.html", {"job": _visible_job(request, job_id)})


@campaign_view("core.view_jobs")
def job_progress(request: CampaignRequest, job_id: int) -> HttpResponse:
    """The progress partial alone, polled by htmx while the job runs."""
    return render(request, "core/htmx/job_progress.html", {"job": _visible_job(request, job_id)})


@campaign_view("core.view_jobs")
def job_download(request: CampaignRequest, job_id: int) -> HttpResponseBase:
    job = _visible_job(request, job_id)
    if job.status != Job.Status.SUCCEEDED or not job.result_file:
        raise Http404
    audit_record(action="job.download", campaign=request.campaign, obj=job)
    filename = job.result_file.name.rsplit("/", 1)[-1]
    return FileResponse(job.result_file.open("rb"), as_attachment=True, filename=filename)
