"""Email providers (Brevo, Mailjet, Amazon SES, Postmark, Mailgun, SendGrid) through
django-anymail.

Each transport builds its own anymail backend from the campaign's stored settings
and secrets, passed as constructor kwargs: no global ANYMAIL setting is read, so
two campaigns can send through two accounts of the same provider.

What a provider answers is sorted into the three outcomes the engine acts on:
- TemporaryFailure: retry later (rate limit, provider down, network, or a refusal we
  cannot attribute to the address);
- PermanentFailure: the provider says this recipient is invalid or suppressed, so
  the engine may suppress the address;
- TransportConfigurationError: the account itself is refused (bad key, unpaid,
  unverified sender); every message would fail alike, so the engine pauses the
  mailing rather than retrying each message or suppressing every address.
The provider folders only describe themselves as a `Provider`; all behaviour is here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from anymail.exceptions import AnymailError, AnymailInvalidAddress, AnymailRecipientsRefused
from anymail.utils import parse_address_list
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.translation import gettext
from django.views import View
from django_stubs_ext import StrOrPromise

from suffrage.messaging.transports.base import (
    DkimKey,
    OutgoingMessage,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    TransportConfigurationError,
    TransportKind,
)

Options = Mapping[str, str]

# Anymail's per-recipient statuses (anymail.message.ANYMAIL_STATUSES).
ACCEPTED = frozenset({"queued", "sent"})
REFUSED = frozenset({"rejected", "invalid"})
# HTTP statuses that concern the account, not the message: unauthorised, unpaid.
ACCOUNT_STATUSES = frozenset({401, 402, 403})
# How much of a provider's error answer is kept in an exception message.
EXCERPT_LENGTH = 300


@dataclass(frozen=True)
class ProviderAnswer:
    """A failed send, reduced to what sorting it needs: the HTTP status (None when the
    provider was never reached) and the provider's answer as text."""

    status: int | None
    text: str = ""
    cause: str = ""  # the network error's type, when there was no answer


def answer_of(response: Any, cause: BaseException | None = None) -> ProviderAnswer:
    """Read a requests.Response (HTTP APIs) or boto3's parsed error (Amazon SES)."""
    if isinstance(response, requests.Response):
        return ProviderAnswer(response.status_code, response.text)
    if isinstance(response, Mapping):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return ProviderAnswer(status, json.dumps(response.get("Error", {})))
    return ProviderAnswer(None, cause=type(cause).__name__ if cause else "")


@dataclass(frozen=True)
class Provider:
    """One provider, as data: what differs between two anymail ESPs.

    `secret_fields` are the sending credentials (all required); `webhook_fields` are
    the secrets that authenticate the provider's tracking webhook, the first of them
    being required before the webhook accepts anything. Field names are anymail's
    kwarg names, so most providers need no `backend_options`. `recipient_errors` and
    `configuration_errors` are regular expressions searched in the provider's error
    answer: only a documented recipient refusal may make a PermanentFailure."""

    name: str
    label: StrOrPromise
    backend: str  # dotted path of the anymail EmailBackend
    tracking_view: type[View]
    spf_hint: str
    settings_fields: tuple[str, ...]
    secret_fields: tuple[str, ...]
    webhook_fields: tuple[str, ...] = ("webhook_secret",)
    required_settings: tuple[str, ...] = ()
    recipient_errors: tuple[str, ...] = ()
    configuration_errors: tuple[str, ...] = ()
    extra_headers: tuple[tuple[str, str], ...] = ()
    # (settings and secrets) -> anymail backend kwargs, when names differ from anymail's
    backend_options: Callable[[Options], dict[str, Any]] | None = None
    # secrets -> extra tracking-view kwargs (e.g. credentials to confirm a subscription)
    webhook_options: Callable[[Options], dict[str, Any]] | None = None

    def kind(self) -> TransportKind:
        """The TransportKind a provider folder exposes; `build` is the Provider itself,
        so that webhook_view_for() can find the webhook fields back from the kind."""
        return TransportKind(
            kind=self.name,
            label=self.label,
            settings_fields=self.settings_fields,
            secret_fields=self.secret_fields + self.webhook_fields,
            spf_hint=self.spf_hint,
            build=self,
            tracking_view=self.tracking_view,
        )

    def __call__(self, settings: Options, secrets: Options, dkim: DkimKey | None = None) -> AnymailTransport:
        """Build a transport. `dkim` is not used: providers sign with the keys the
        campaign's domain publishes for them (set up in the provider's dashboard)."""
        return AnymailTransport(self, {**settings, **secrets})

    def backend_kwargs(self, options: Options) -> dict[str, Any]:
        if self.backend_options is not None:
            return self.backend_options(options)
        names = self.settings_fields + self.secret_fields
        return {name: options[name] for name in names if options.get(name)}

    def webhook_kwargs(self, secrets: Options) -> dict[str, Any]:
        kwargs: dict[str, Any] = {name: secrets[name] for name in self.webhook_fields if secrets.get(name)}
        if self.webhook_options is not None and kwargs:
            kwargs.update(self.webhook_options(secrets))
        return kwargs

    def webhook_configured(self, secrets: Options) -> bool:
        return bool(self.webhook_fields) and bool(secrets.get(self.webhook_fields[0]))


def django_email(
    message: OutgoingMessage, connection: Any, extra_headers: Mapping[str, str] | None = None
) -> EmailMultiAlternatives:
    """The message as a Django email on `connection` (an anymail backend, or Django's
    own for automatic messages of a campaign without a transport)."""
    headers = {**(extra_headers or {}), **message.headers, "Message-ID": message.message_id}
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=message.from_email,
        to=[message.to],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers=headers,
        connection=connection,
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    for attachment in message.attachments:
        email.attach(attachment.filename, attachment.content, attachment.mimetype)
    return email


class AnymailTransport:
    """The Transport protocol over one anymail backend instance (one provider account)."""

    def __init__(self, provider: Provider, options: Options) -> None:
        self.provider = provider
        self.options = dict(options)
        self.connection: Any = None

    def open(self) -> None:
        self.connection = self._connect()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def send(self, message: OutgoingMessage) -> SendResult:
        if self.connection is None:
            self.open()
        email = self._email(message)
        try:
            email.send()
        except AnymailRecipientsRefused:
            raise PermanentFailure(self._say(gettext("refused the recipient"))) from None
        except AnymailInvalidAddress:
            raise self._invalid_address(message.to) from None
        except AnymailError as error:
            if error.response is None and error.__cause__ is None:
                # Refused before any request (unsupported option, unknown sender domain…).
                detail = gettext("cannot send with these settings (%s)") % type(error).__name__
                raise TransportConfigurationError(self._say(detail)) from None
            raise self._failure(answer_of(error.response, error.__cause__)) from None
        return self._result(email)

    def _invalid_address(self, recipient: str) -> Exception:
        """Anymail refuses a malformed address before sending: the recipient's is
        permanent for that address, while a bad From or Reply-To would fail alike for
        every recipient."""
        try:
            parse_address_list([recipient])
        except AnymailInvalidAddress:
            return PermanentFailure(self._say(gettext("invalid recipient address")))
        return TransportConfigurationError(self._say(gettext("invalid sender or reply-to address")))

    def _connect(self) -> Any:
        """An anymail backend built from this transport's options only. A missing
        credential is refused here: anymail (or boto3) would otherwise fall back to
        global settings or the server's own cloud credentials."""
        names = self.provider.secret_fields + self.provider.required_settings
        missing = [name for name in names if not self.options.get(name)]
        if missing:
            raise TransportConfigurationError(self._say(gettext("missing setting: %s") % ", ".join(missing)))
        try:
            connection = get_connection(self.provider.backend, **self.provider.backend_kwargs(self.options))
            connection.open()  # an HTTP session, or boto3's client: no request yet
            return connection
        except (ImproperlyConfigured, ValueError) as error:  # anymail's AnymailConfigurationError, bad URL
            detail = gettext("invalid settings (%s)") % type(error).__name__
            raise TransportConfigurationError(self._say(detail)) from None

    def _email(self, message: OutgoingMessage) -> EmailMultiAlternatives:
        return django_email(message, self.connection, dict(self.provider.extra_headers))

    def _result(self, email: EmailMultiAlternatives) -> SendResult:
        """Sort the single recipient's status: anymail only raises when every
        recipient is refused, and some providers (Mailjet) report a refusal as a
        "failed" status on an HTTP 4xx answer."""
        status = email.anymail_status  # type: ignore[attr-defined]  # set by anymail's backend
        recipient = next(iter(status.recipients.values()), None)
        if recipient is None:
            raise TemporaryFailure(self._say(gettext("did not send the message")))
        if recipient.status in ACCEPTED:
            message_id = recipient.message_id or status.message_id
            return SendResult(provider_id=str(message_id or ""))
        if recipient.status in REFUSED:
            raise PermanentFailure(self._say(gettext("refused the recipient")))
        raise self._failure(answer_of(status.esp_response))

    def _failure(self, answer: ProviderAnswer) -> Exception:
        """Only a recipient refusal the provider documents becomes permanent; an
        unrecognised refusal is retried, never turned into a suppressed address."""
        if answer.status is None:
            return TemporaryFailure(self._say(gettext("could not be reached (%s)") % answer.cause))
        detail = gettext("answered HTTP %(status)s: %(answer)s") % {
            "status": answer.status,
            "answer": self._excerpt(answer.text),
        }
        if answer.status in ACCOUNT_STATUSES or self._matches(self.provider.configuration_errors, answer.text):
            return TransportConfigurationError(self._say(detail))
        if answer.status == 429 or answer.status >= 500:
            return TemporaryFailure(self._say(detail))
        if self._matches(self.provider.recipient_errors, answer.text):
            return PermanentFailure(self._say(detail))
        return TemporaryFailure(self._say(detail))

    def _say(self, detail: str) -> str:
        return f"{self.provider.label}: {detail}"

    def _excerpt(self, text: str) -> str:
        """The provider's answer, shortened, with any of this transport's secrets
        masked in case the provider echoes one back."""
        text = " ".join(text.split())
        for name in self.provider.secret_fields + self.provider.webhook_fields:
            secret = self.options.get(name)
            if secret:
                text = text.replace(secret, "***")
        return text[:EXCERPT_LENGTH]

    @staticmethod
    def _matches(patterns: tuple[str, ...], text: str) -> bool:
        return any(re.search(pattern, text, re.IGNORECASE) for pattern in patterns)
