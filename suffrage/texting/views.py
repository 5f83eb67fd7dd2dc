"""SMS pages: text-message mailings (list, composer with live count and cost, audience
with the numbers, preview per recipient, test, send, progress, report), the settings,
the conversations inbox and canned answers."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can
from suffrage.core.forms import errors_to_form
from suffrage.core.ratelimit import too_many
from suffrage.messaging import services as mailings
from suffrage.messaging.forms import ScheduleForm
from suffrage.messaging.models import Mailing
from suffrage.messaging.rendering import TemplateError
from suffrage.messaging.selectors import mailing_numbers, progress
from suffrage.messaging.views import SENDING_ACTIONS, example_person, sending_act
from suffrage.people.models import Person
from suffrage.texting import selectors, services
from suffrage.texting.forms import (
    AssignForm,
    CannedAnswerForm,
    ReplyForm,
    ShareForm,
    SmsMailingForm,
    SmsSettingsForm,
    SmsTestForm,
)
from suffrage.texting.gsm import sms_length
from suffrage.texting.models import CannedAnswer, Conversation, sms_settings
from suffrage.texting.sending import (
    CONSENT_REQUEST,
    audience_breakdown,
    consent_question,
    frame,
    recipients_sample,
    sms_prepare,
)


def _render(request: CampaignRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """render() with the tabs this user may follow (a volunteer sees only conversations)."""
    context["rights"] = {
        "mailings": can(request, "messaging.view_mailings"),
        "manage": can(request, "texting.manage_conversations"),
        "configure": can(request, "texting.configure_sms"),
        "providers": can(request, "messaging.configure_email"),
    }
    return render(request, template, context)


def _count_with(form: Any, names: tuple[str, ...], around: str, price: Any = None, recipients: int = 0) -> None:
    """Tell the composer's counter what every text adds and what a part costs."""
    for name in names:
        attrs = form.fields[name].widget.attrs
        attrs["data-sms-suffix"] = around
        if price is not None and recipients:
            attrs.update({"data-sms-price": str(price), "data-sms-recipients": str(recipients)})


# --- Mailings by text -----------------------------------------------------------------------


def _sms(request: CampaignRequest, sms_id: int) -> Mailing:
    return campaign_object_or_404(Mailing, request.campaign, pk=sms_id, channel=Mailing.Channel.SMS)


@campaign_view("messaging.view_mailings")
def sms_list(request: CampaignRequest) -> HttpResponse:
    context = {
        "rows": selectors.sms_rows(request.campaign),
        "can_edit": can(request, "messaging.edit_mailings"),
        "has_transport": services.sms_transports(request.campaign).exists(),
    }
    return _render(request, "texting/sms_list.html", context)


def _frame_text(request: CampaignRequest) -> str:
    """Signature and STOP mention around any text: counted by the composer's counter."""
    prefix, suffix = frame(sms_settings(request.campaign))
    return prefix + suffix


@campaign_view("messaging.edit_mailings")
def sms_edit(request: CampaignRequest, sms_id: int | None = None) -> HttpResponseBase:
    mailing = _sms(request, sms_id) if sms_id else None
    if mailing is not None and not mailing.is_editable:
        return redirect("texting:detail", request.campaign.slug, mailing.pk)
    initial = {"transport": services.default_transport(request.campaign)}
    form = SmsMailingForm(request.POST or None, instance=mailing, initial=initial, campaign=request.campaign)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.sms_mailing_save(
                campaign=request.campaign, values=form.cleaned_data, actor=request.user, mailing=mailing
            )
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            messages.success(request, _("Text message saved."))
            return redirect("texting:detail", request.campaign.slug, saved.pk)
    transport = (mailing.transport if mailing else None) or services.default_transport(request.campaign)
    around = _frame_text(request)
    recipients = int((mailing.audience or {}).get("will_receive", 0)) if mailing else 0
    if mailing and mailing.segment and not recipients:
        recipients = audience_breakdown(mailing, mailings.segment_audience(mailing))["will_receive"]
    price = transport.price_per_part if transport else None
    _count_with(form, ("body",), around, price, recipients)
    _count_with(form, ("consent_request",), around + consent_question(sms_settings(request.campaign), ""))
    context = {"form": form, "mailing": mailing, "frame": around}
    return _render(request, "texting/sms_form.html", context)


def _preview(request: CampaignRequest, mailing: Mailing, people: Any) -> dict[str, Any]:
    """The text as one recipient gets it (chosen with ?person=), with its length."""
    person_id = request.GET.get("person", "")
    person = people.filter(pk=int(person_id)).first() if person_id.isdigit() else people.order_by("pk").first()
    person = person or example_person(request.campaign)
    try:
        prepared = sms_prepare(mailing, with_transport=False)
    except TemplateError as error:
        return {"error": str(error)}
    text = prepared.text_for(person)
    request_text = prepared.text_for(person, CONSENT_REQUEST) if mailing.consent_request.strip() else ""
    return {
        "person": person,
        "text": text,
        "length": sms_length(text),
        "consent_text": request_text,
        "consent_length": sms_length(request_text) if request_text else None,
    }


@campaign_view("messaging.view_mailings")
def sms_detail(request: CampaignRequest, sms_id: int) -> HttpResponse:
    mailing = _sms(request, sms_id)
    people = mailings.segment_audience(mailing)
    started = mailing.started_at is not None
    audience = mailing.audience if started else (audience_breakdown(mailing, people) if mailing.segment else {})
    preview = _preview(request, mailing, people)
    parts = preview["length"].parts if "length" in preview else 0
    estimate = selectors.cost(parts * int(audience.get("will_receive", 0)), mailing) if audience else None
    can_see_people = can(request, "people.view_people")
    context: dict[str, Any] = {
        "mailing": mailing,
        "numbers": mailing_numbers(mailing),
        "audience": audience,
        "estimate": estimate,
        "preview": preview,
        "candidates": people.order_by("pk")[:20] if can_see_people else [],
        "sample": recipients_sample(mailing, people) if not started and can_see_people and mailing.segment else [],
        "report": selectors.sms_report(mailing) if started else None,
        "test_form": SmsTestForm(campaign=request.campaign),
        "schedule_form": ScheduleForm(),
        "can_send": can(request, "messaging.send_mailings"),
        "can_edit": can(request, "messaging.edit_mailings"),
    }
    context["progress"] = progress(context["numbers"])
    return _render(request, "texting/sms_detail.html", context)


ACTIONS = {**SENDING_ACTIONS, "test": "messaging.edit_mailings"}


@campaign_view("messaging.view_mailings", methods=("POST",))
def sms_action(request: CampaignRequest, sms_id: int, action: str) -> HttpResponseBase:
    mailing = _sms(request, sms_id)
    if action not in ACTIONS:
        raise Http404
    if not can(request, ACTIONS[action]):
        messages.error(request, _("Your role does not allow this."))
    else:
        try:
            if action == "test":
                _test_send(request, mailing)
            else:
                sending_act(request, mailing, action)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect("texting:detail", request.campaign.slug, mailing.pk)


def _test_send(request: CampaignRequest, mailing: Mailing) -> None:
    form = SmsTestForm(request.POST, campaign=request.campaign)
    if not form.is_valid():
        raise ValidationError([message for errors in form.errors.values() for message in errors])
    people = mailings.segment_audience(mailing)
    person = people.order_by("pk").first() or example_person(request.campaign)
    number = form.cleaned_data["to"]
    services.sms_test_send(
        mailing=mailing,
        person=person,
        number=number,
        actor=request.user,
        consent_request=form.cleaned_data["consent_request"],
    )
    messages.success(request, _("Test sent to %(to)s.") % {"to": number})


# --- Settings -----------------------------------------------------------------------------------


@campaign_view("texting.configure_sms")
def settings_edit(request: CampaignRequest) -> HttpResponseBase:
    form = SmsSettingsForm(request.POST or None, instance=sms_settings(request.campaign))
    if request.method == "POST" and form.is_valid():
        services.sms_settings_save(form=form, actor=request.user)
        messages.success(request, _("SMS settings saved."))
        return redirect("texting:settings", request.campaign.slug)
    return _render(request, "texting/settings.html", {"form": form})


# --- Conversations -----------------------------------------------------------------------------


@campaign_view("texting.converse")
def inbox(request: CampaignRequest) -> HttpResponseBase:
    everyone = can(request, "texting.manage_conversations")
    shown = request.GET.get("show", "all" if everyone else "mine")
    if shown not in selectors.INBOX_FILTERS:
        shown = "all"
    share_form = ShareForm(request.POST or None, campaign=request.campaign) if everyone else None
    if request.method == "POST":
        if share_form is None:
            raise Http404
        if share_form.is_valid():
            volunteers = [membership.user for membership in share_form.cleaned_data["volunteers"]]
            count = services.conversations_share(campaign=request.campaign, volunteers=volunteers, actor=request.user)
            messages.success(request, _("%(count)s conversations shared.") % {"count": count})
            return redirect("texting:inbox", request.campaign.slug)
    context = {
        "conversations": selectors.inbox(request.campaign, request.user, everyone=everyone, shown=shown)[:300],
        "counts": selectors.inbox_counts(request.campaign, request.user),
        "shown": shown,
        "everyone": everyone,
        "share_form": share_form,
        "filters": selectors.INBOX_FILTERS if everyone else ("mine", "unread", "open", "closed"),
    }
    return _render(request, "texting/inbox.html", context)


def _conversation(request: CampaignRequest, conversation_id: int) -> Conversation:
    """A conversation this user may see: any for organisers, only their own for volunteers."""
    conversation = campaign_object_or_404(
        Conversation.objects.select_related("person", "assigned_to", "campaign"), request.campaign, pk=conversation_id
    )
    if conversation.assigned_to_id != request.user.pk and not can(request, "texting.manage_conversations"):
        raise Http404
    return conversation


@campaign_view("texting.converse", assigned_only=True)
def conversation(request: CampaignRequest, conversation_id: int) -> HttpResponseBase:
    found = _conversation(request, conversation_id)
    form = ReplyForm(request.POST or None, campaign=request.campaign)
    _count_with(form, ("text",), _frame_text(request))
    if request.method == "POST" and form.is_valid():
        if too_many(request, f"sms-reply:{request.user.pk}", limit=30):
            form.add_error(None, _("Too many texts in a minute: wait a moment."))
        else:
            try:
                services.conversation_reply(conversation=found, text=form.answer(), actor=request.user)
            except ValidationError as error:
                errors_to_form(form, error)
            else:
                messages.success(request, _("Sent."))
                return redirect("texting:conversation", request.campaign.slug, found.pk)
    services.conversation_read(found)
    person: Person | None = found.person
    context = {
        "conversation": found,
        "texts": selectors.thread(found),
        "form": form,
        "canned": CannedAnswer.objects.filter(campaign=request.campaign),
        "assign_form": AssignForm(campaign=request.campaign) if can(request, "texting.manage_conversations") else None,
        "opted_out": person is not None and person.consent_sms is False,
        "can_see_person": can(request, "people.view_people"),
    }
    return _render(request, "texting/conversation.html", context)


@campaign_view("texting.converse", methods=("POST",), assigned_only=True)
def conversation_action(request: CampaignRequest, conversation_id: int, action: str) -> HttpResponseBase:
    found = _conversation(request, conversation_id)
    if action in ("open", "closed"):
        services.conversation_status(conversation=found, status=action, actor=request.user)
    elif action == "assign" and can(request, "texting.manage_conversations"):
        form = AssignForm(request.POST, campaign=request.campaign)
        if form.is_valid():
            membership = form.cleaned_data["to"]
            services.conversations_assign(
                campaign=request.campaign,
                conversations=Conversation.objects.filter(pk=found.pk),
                to=membership.user if membership else None,
                actor=request.user,
            )
            messages.success(request, _("Conversation handed over."))
    else:
        raise Http404
    if action == "closed" or (action == "assign" and not can(request, "texting.manage_conversations")):
        return redirect("texting:inbox", request.campaign.slug)
    return redirect("texting:conversation", request.campaign.slug, found.pk)


# --- Canned answers --------------------------------------------------------------------------------


@campaign_view("texting.manage_conversations")
def canned_list(request: CampaignRequest) -> HttpResponse:
    answers = CannedAnswer.objects.filter(campaign=request.campaign)
    return _render(request, "texting/canned_list.html", {"answers": answers})


@campaign_view("texting.manage_conversations")
def canned_edit(request: CampaignRequest, answer_id: int | None = None) -> HttpResponseBase:
    answer = campaign_object_or_404(CannedAnswer, request.campaign, pk=answer_id) if answer_id else None
    form = CannedAnswerForm(request.POST or None, instance=answer)
    _count_with(form, ("body",), _frame_text(request))
    if request.method == "POST" and "delete" in request.POST and answer is not None:
        services.canned_delete(answer=answer, actor=request.user)
        messages.success(request, _("Canned answer deleted."))
        return redirect("texting:canned", request.campaign.slug)
    if request.method == "POST" and form.is_valid():
        services.canned_save(
            campaign=request.campaign,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            actor=request.user,
            answer=answer,
        )
        messages.success(request, _("Canned answer saved."))
        return redirect("texting:canned", request.campaign.slug)
    return _render(request, "texting/canned_form.html", {"form": form, "answer": answer})
