"""Sign-ins are audited in each campaign the user belongs to.

Django's login signal is the only hook on a sign-in, so this receiver only calls
the audit service; no other logic lives in signals.
"""

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from suffrage.core.audit import audit_record
from suffrage.core.models import User


@receiver(user_logged_in)
def audit_sign_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    for membership in user.memberships.select_related("campaign"):
        audit_record(action="account.sign_in", campaign=membership.campaign, obj=user, actor=user)
