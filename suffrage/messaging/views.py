"""Email pages: mailings (list, composer with preview, audience, send, progress,
report), templates, senders with their DNS records, transports, settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can
from suffrage.core.forms import errors_to_form
from suffrage.messaging import selectors, services
from suffrage.messaging.engine import message_for, prepare
from suffrage.messaging.forms import (
    MailingForm,
    MailSettingsForm,
    ScheduleForm,
    SenderForm,
    TemplateForm,
    TestSendForm,
    TransportForm,
)
from suffrage.messaging.models import Delivery, EmailTemplate, Mailing, Sender, TransportConfig, mail_settings
from suffrage.messaging.rendering import TemplateError, links_in
from suffrage.messaging.transports import transport_kinds
from suffrage.people.models import Person

# --- Mailings ---------------------------------------------------------------------------


@campaign_view("messaging.view_mailings")
def mailing_list(request: CampaignRequest) -> HttpResponse:
    found = list(selectors.mailings(request.campaign)[:200])
    numbers = selectors.numbers_by_mailing([m.pk for m in found])
    rows = []
    for mailing in found:
        counts = numbers.get(mailing.pk, dict.fromkeys(selectors.COUNTED, 0))
        rows.append(
            {
                "mailing": mailing,
                "numbers": counts,
                "click_rate": selectors.rate(counts["clicked"], counts["sent"]),
                "unsubscribe_rate": selectors.rate(counts["unsubscribed"], counts["sent"]),
            }
        )
    return render(
        request, "messaging/mailing_list.html", {"rows": rows, "can_edit": can(request, "messaging.edit_mailings")}
    )


@campaign_view("messaging.edit_mailings")
def mailing_edit(request: CampaignRequest, mailing_id: int | None = None) -> HttpResponseBase:
    email = Mailing.Channel.EMAIL
    mailing = campaign_object_or_404(Mailing, request.campaign, pk=mailing_id, channel=email) if mailing_id else None
    if mailing is not None and not mailing.is_editable:
        return redirect("messaging:detail", request.campaign.slug, mailing.pk)
    initial: dict[str, Any] = {"footer": services.default_footer()}
    template_id = request.GET.get("template", "")
    if mailing is None and template_id.isdigit():
        template = campaign_object_or_404(EmailTemplate, request.campaign, pk=int(template_id))
        initial.update(name=template.name, subject=template.subject, preheader=template.preheader, body=template.body)
    form = MailingForm(request.POST or None, instance=mailing, initial=initial, campaign=request.campaign)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.mailing_save(
                campaign=request.campaign, values=form.cleaned_data, actor=request.user, mailing=mailing
            )
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Mailing saved."))
            return redirect("messaging:detail", request.campaign.slug, saved.pk)
    templates = EmailTemplate.objects.filter(campaign=request.campaign)
    return render(request, "messaging/mailing_form.html", {"form": form, "mailing": mailing, "templates": templates})


@campaign_view("messaging.view_mailings")
def mailing_detail(request: CampaignRequest, mailing_id: int) -> HttpResponse:
    mailing = campaign_object_or_404(Mailing, request.campaign, pk=mailing_id, channel=Mailing.Channel.EMAIL)
    numbers = selectors.mailing_numbers(mailing)
    context: dict[str, Any] = {
        "mailing": mailing,
        "numbers": numbers,
        "progress": selectors.progress(numbers),
        "audience": mailing.audience if mailing.started_at else services.mailing_audience(mailing),
        "links": selectors.link_clicks(mailing) if mailing.started_at else [],
        "stations": selectors.by_station(mailing) if mailing.started_at else [],
        "ab": services.ab_results(mailing) if mailing.subject_b and mailing.started_at else {},
        "checked_links": links_in(mailing.body) if mailing.is_editable else [],
        "test_form": TestSendForm(initial={"to": request.user.email}),
        "schedule_form": ScheduleForm(),
        "can_send": can(request, "messaging.send_mailings"),
        "can_edit": can(request, "messaging.edit_mailings"),
        "open_tracking": mail_settings(request.campaign).open_tracking,
    }
    return render(request, "messaging/mailing_detail.html", context)


@campaign_view("messaging.view_mailings", methods=("GET",))
def mailing_progress(request: CampaignRequest, mailing_id: int) -> HttpResponse:
    mailing = campaign_object_or_404(Mailing, request.campaign, pk=mailing_id)
    numbers = selectors.mailing_numbers(mailing)
    return render(
        request,
        "messaging/htmx/progress.html",
        {"mailing": mailing, "numbers": numbers, "progress": selectors.progress(numbers)},
    )


@campaign_view("messaging.view_mailings")
def mailing_preview(request: CampaignRequest, mailing_id: int) -> HttpResponse:
    """The message as one person would receive it (HTML shown in a sandboxed frame)."""
    mailing = campaign_object_or_404(Mailing, request.campaign, pk=mailing_id, channel=Mailing.Channel.EMAIL)
    person_id = request.GET.get("person", "")
    people = services.segment_audience(mailing) if mailing.segment else Person.objects.filter(campaign=request.campaign)
    person = people.filter(pk=int(person_id)).first() if person_id.isdigit() else people.order_by("pk").first()
    person = person or example_person(request.campaign)
    email = person.emails.first() if person.pk else None
    try:
        message = message_for(
            prepare(mailing), Delivery(pk=0, mailing=mailing, person=person, address=str(email or ""))
        )
    except TemplateError as error:
        return HttpResponse(str(error), status=400)
    candidates = people.order_by("pk")[:20] if can(request, "people.view_people") else []
    return render(
        request,
        "messaging/mailing_preview.html",
        {"mailing": mailing, "message": message, "person": person, "candidates": candidates},
    )


def example_person(campaign: Any) -> Person:
    """Someone to show the message as when the segment is empty (never saved)."""
    return Person(campaign=campaign, first_names="Camille", usage_name="Exemple", source="manual")


# Send, schedule, pause, resume, cancel: the same for emails and text messages.
SENDING_ACTIONS = {name: "messaging.send_mailings" for name in ("send", "schedule", "pause", "resume", "cancel")}


ACTIONS = {
    **SENDING_ACTIONS,
    "ab_decide": "messaging.send_mailings",
    "test": "messaging.edit_mailings",
    "check_links": "messaging.edit_mailings",
}


@campaign_view("messaging.view_mailings", methods=("POST",))
def mailing_action(request: CampaignRequest, mailing_id: int, action: str) -> HttpResponseBase:
    mailing = campaign_object_or_404(Mailing, request.campaign, pk=mailing_id, channel=Mailing.Channel.EMAIL)
    if action not in ACTIONS:
        raise Http404
    if not can(request, ACTIONS[action]):
        messages.error(request, _("Your role does not allow this."))
        return redirect("messaging:detail", request.campaign.slug, mailing.pk)
    try:
        _act(request, mailing, action)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("messaging:detail", request.campaign.slug, mailing.pk)


def sending_act(request: CampaignRequest, mailing: Mailing, action: str) -> None:
    """One of SENDING_ACTIONS on a mailing of either channel, with its message to the user."""
    actor = request.user
    if action == "send":
        services.mailing_send(mailing=mailing, actor=actor)
        messages.success(request, _("Sending has started."))
    elif action == "schedule":
        form = ScheduleForm(request.POST)
        if not form.is_valid() or form.cleaned_data["at"] <= timezone.now():
            raise ValidationError(_("Choose a date and time in the future."))
        services.mailing_send(mailing=mailing, actor=actor, at=form.cleaned_data["at"])
        messages.success(request, _("Mailing scheduled."))
    elif action == "pause":
        services.mailing_pause(mailing=mailing, actor=actor)
    elif action == "resume":
        services.mailing_resume(mailing=mailing, actor=actor)
    elif action == "cancel":
        count = services.mailing_cancel(mailing=mailing, actor=actor)
        text = ngettext(
            "Cancelled: %(count)s message will not be sent.", "Cancelled: %(count)s messages will not be sent.", count
        )
        messages.success(request, text % {"count": count})


def _act(request: CampaignRequest, mailing: Mailing, action: str) -> None:
    if action in SENDING_ACTIONS:
        sending_act(request, mailing, action)
    elif action == "ab_decide":
        winner = services.ab_decide(mailing=mailing, actor=request.user)
        messages.success(request, _("Subject %(winner)s goes to the rest.") % {"winner": winner.upper()})
    elif action == "test":
        _test_send(request, mailing)
    elif action == "check_links":
        _check_links(request, mailing)


def _check_links(request: CampaignRequest, mailing: Mailing) -> None:
    results = services.links_check(links_in(mailing.body))
    broken = [(url, status) for url, status in results if not status.startswith(("2", "3"))]
    for url, status in broken:
        messages.warning(request, _("%(url)s: %(status)s") % {"url": url, "status": status})
    if not broken:
        text = ngettext("The link answers.", "All %(count)s links answer.", len(results))
        messages.success(request, text % {"count": len(results)})


def _test_send(request: CampaignRequest, mailing: Mailing) -> None:
    form = TestSendForm(request.POST)
    if not form.is_valid():
        raise ValidationError(list(form.errors["to"]))
    people = services.segment_audience(mailing)
    person = people.order_by("pk").first() or example_person(request.campaign)
    services.mailing_test_send(mailing=mailing, person=person, to=form.cleaned_data["to"], actor=request.user)
    messages.success(request, _("Test sent to %(to)s.") % {"to": form.cleaned_data["to"]})


# --- Templates -----------------------------------------------------------------------


@campaign_view("messaging.edit_mailings")
def template_list(request: CampaignRequest) -> HttpResponse:
    templates = EmailTemplate.objects.filter(campaign=request.campaign)
    return render(request, "messaging/template_list.html", {"templates": templates})


@campaign_view("messaging.edit_mailings")
def template_edit(request: CampaignRequest, template_id: int | None = None) -> HttpResponseBase:
    template = campaign_object_or_404(EmailTemplate, request.campaign, pk=template_id) if template_id else None
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            services.template_save(
                campaign=request.campaign, values=form.cleaned_data, actor=request.user, template=template
            )
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Template saved."))
            return redirect("messaging:templates", request.campaign.slug)
    return render(request, "messaging/simple_form.html", {"form": form, "title": _("Email template")})


# --- Senders, transports, settings ---------------------------------------------------------


@campaign_view("messaging.configure_email")
def sender_list(request: CampaignRequest) -> HttpResponseBase:
    form = SenderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.sender_create(
            campaign=request.campaign,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            reply_to=form.cleaned_data["reply_to"],
            algorithm=form.cleaned_data["dkim_algorithm"],
            actor=request.user,
        )
        messages.success(request, _("Sender added: publish its DNS records, then check them."))
        return redirect("messaging:senders", request.campaign.slug)
    transports = list(TransportConfig.objects.filter(campaign=request.campaign))
    senders = [
        (sender, services.sender_dns_records(sender, transports))
        for sender in Sender.objects.filter(campaign=request.campaign)
    ]
    return render(request, "messaging/sender_list.html", {"senders": senders, "form": form})


@campaign_view("messaging.configure_email", methods=("POST",))
def sender_verify(request: CampaignRequest, sender_id: int) -> HttpResponseBase:
    sender = campaign_object_or_404(Sender, request.campaign, pk=sender_id)
    status = services.sender_verify(sender=sender, actor=request.user)
    if all(value == "ok" for value in status.values()):
        messages.success(request, _("All DNS records are published."))
    else:
        messages.warning(request, _("Some DNS records are missing or different; see below."))
    return redirect("messaging:senders", request.campaign.slug)


@campaign_view("messaging.configure_email")
def transport_list(request: CampaignRequest) -> HttpResponse:
    transports = TransportConfig.objects.filter(campaign=request.campaign)
    return render(
        request,
        "messaging/transport_list.html",
        {"transports": transports, "kinds": transport_kinds().values()},
    )


@campaign_view("messaging.configure_email")
def transport_edit(request: CampaignRequest, transport_id: int | None = None) -> HttpResponseBase:
    transport = campaign_object_or_404(TransportConfig, request.campaign, pk=transport_id) if transport_id else None
    kind = transport.kind if transport else request.GET.get("kind", "")
    if kind not in transport_kinds():
        return redirect("messaging:transports", request.campaign.slug)  # choose a kind there
    description = transport_kinds()[kind]
    form = TransportForm(request.POST or None, kind=description, transport=transport)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        try:
            services.transport_save(
                campaign=request.campaign,
                kind=kind,
                name=values.pop("name"),
                rate_per_second=values.pop("rate_per_second"),
                price_per_part=values.pop("price_per_part", None),
                values=values,
                actor=request.user,
                transport=transport,
            )
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Transport saved."))
            return redirect("messaging:transports", request.campaign.slug)
    hook = "sms" if description.channel == "sms" else "email"
    webhook = f"{settings.SITE_URL}/hooks/{hook}/{transport.webhook_key}/" if transport else ""
    return render(
        request,
        "messaging/transport_form.html",
        {
            "form": form,
            "label": description.label,
            "transport": transport,
            "webhook": webhook if description.tracking_view or description.inbound else "",
        },
    )


@campaign_view("messaging.configure_email")
def settings_edit(request: CampaignRequest) -> HttpResponseBase:
    options = mail_settings(request.campaign)
    form = MailSettingsForm(request.POST or None, instance=options)
    if request.method == "POST" and form.is_valid():
        services.mail_settings_save(form=form, actor=request.user)
        messages.success(request, _("Email settings saved."))
        return redirect("messaging:settings", request.campaign.slug)
    return render(request, "messaging/simple_form.html", {"form": form, "title": _("Email settings")})
