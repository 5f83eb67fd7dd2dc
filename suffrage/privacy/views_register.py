"""The processing register's page (read, edit, answer the impact-assessment
checklist, regenerate from the configuration) and its audited exports."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.core.access import CampaignRequest, campaign_view
from suffrage.core.audit import audit_record
from suffrage.messaging.rendering import markdown_to_html
from suffrage.privacy.models import ProcessingRegister
from suffrage.privacy.register import (
    ANSWER_LABELS,
    ANSWERS,
    NOTE_MAX,
    UNKNOWN,
    dpia_prefill,
    dpia_questions,
    dpia_rows,
    register_generate,
    register_get,
    register_html,
    register_markdown,
    register_refresh,
    register_save,
)

FORMATS = {
    "md": ("text/markdown; charset=utf-8", "attachment"),
    "html": ("text/html; charset=utf-8", "inline"),  # a page to print or save
}
DOCUMENT_MAX = 200_000


class RegisterForm(forms.Form):
    """The document's Markdown, and for each question an answer and a note."""

    document = forms.CharField(
        label=gettext_lazy("Register (Markdown)"),
        required=False,
        max_length=DOCUMENT_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "true"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(answer, ANSWER_LABELS[answer]) for answer in ANSWERS]
        for question in dpia_questions():
            self.fields[f"{question.key}__answer"] = forms.ChoiceField(
                label=question.question, choices=choices, initial=UNKNOWN, widget=forms.RadioSelect
            )
            self.fields[f"{question.key}__note"] = forms.CharField(
                label=gettext_lazy("Note"),
                required=False,
                max_length=NOTE_MAX,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def questions(self) -> list[dict[str, Any]]:
        """Each question with its two bound fields, in the checklist's order."""
        return [
            {
                "question": question,
                "answer": self[f"{question.key}__answer"],
                "note": self[f"{question.key}__note"],
            }
            for question in dpia_questions()
        ]

    def dpia(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        return {q.key: {"answer": data[f"{q.key}__answer"], "note": data[f"{q.key}__note"]} for q in dpia_questions()}


def _initial(register: ProcessingRegister) -> dict[str, Any]:
    initial: dict[str, Any] = {"document": register.document}
    for row in dpia_rows(register):
        initial[f"{row['key']}__answer"] = row["answer"]
        initial[f"{row['key']}__note"] = row["note"]
    return initial


def _edited_since_generation(register: ProcessingRegister | None) -> bool:
    return bool(
        register is not None
        and register.edited_at
        and (register.generated_at is None or register.edited_at > register.generated_at)
    )


@campaign_view("privacy.manage_register")
def register_page(request: CampaignRequest) -> HttpResponse:
    register = register_get(request.campaign)
    form = RegisterForm(initial=_initial(register)) if register else None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "regenerate":
            if _edited_since_generation(register) and request.POST.get("confirm") != "1":
                messages.error(
                    request,
                    _("The register was edited since it was generated: tick the box to confirm replacing the text."),
                )
                return redirect("privacy:register", request.campaign.slug)
            register_refresh(campaign=request.campaign, actor=request.user)
            messages.success(request, _("The register was generated from the current configuration."))
            return redirect("privacy:register", request.campaign.slug)
        if action == "save" and register is not None:
            form = RegisterForm(request.POST)
            if form.is_valid():
                try:
                    register_save(
                        register=register,
                        document=form.cleaned_data["document"],
                        dpia=form.dpia(),
                        actor=request.user,
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(request, _("The register was saved."))
                    return redirect("privacy:register", request.campaign.slug)
        elif action != "save":
            raise Http404
    return render(
        request,
        "privacy/register.html",
        {
            "register": register,
            "form": form,
            "body": mark_safe(markdown_to_html(register.document)) if register else "",  # escape=True
            "edited_since_generation": _edited_since_generation(register),
            "suggested": {row["key"] for row in dpia_rows(register) if row["prefilled"]} if register else set(),
        },
    )


@campaign_view("privacy.manage_register", methods=("GET",))
def register_download(request: CampaignRequest, fmt: str) -> HttpResponseBase:
    if fmt not in FORMATS:
        raise Http404
    register = register_get(request.campaign)
    if register is None:  # not generated yet: export what the configuration gives, unsaved
        register = ProcessingRegister(
            campaign=request.campaign,
            document=register_generate(request.campaign),
            dpia=dpia_prefill(request.campaign),
        )
    content = register_markdown(register) if fmt == "md" else register_html(register)
    audit_record(
        action="privacy.register_export",
        campaign=request.campaign,
        obj=register if register.pk else None,
        changes={"format": fmt},
    )
    content_type, disposition = FORMATS[fmt]
    response = HttpResponse(content, content_type=content_type)
    filename = f"register-{request.campaign.slug}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response
