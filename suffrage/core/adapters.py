"""allauth hooks: sign-up is by invitation (or open where the operator says so)."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

INVITATION_SESSION_KEY = "suffrage_invitation_token"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(getattr(settings, "SIGNUP_OPEN", False) or request.session.get(INVITATION_SESSION_KEY))
