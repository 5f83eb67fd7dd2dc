"""Request-wide context: the signed-in user's language and the audit actor/IP."""

from collections.abc import Callable

from allauth.core.internal.httpkit import get_client_ip
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from suffrage.core.audit import audit_context_reset, audit_context_set

Handler = Callable[[HttpRequest], HttpResponse]


def user_language_middleware(get_response: Handler) -> Handler:
    """A signed-in user's saved language wins over the browser's, on every device."""

    def middleware(request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return get_response(request)

    return middleware


def audit_context_middleware(get_response: Handler) -> Handler:
    def middleware(request: HttpRequest) -> HttpResponse:
        actor = request.user if request.user.is_authenticated else None
        token = audit_context_set(actor=actor, ip=get_client_ip(request))
        try:
            return get_response(request)
        finally:
            audit_context_reset(token)

    return middleware
