"""Social tasks: thin, taking ids."""

from django_tasks import task

from suffrage.social.models import SocialAccount
from suffrage.social.services import leads_receive


@task()
def leads_fetch_task(account_id: int, leadgen_ids: list[str]) -> int:
    account = SocialAccount.objects.select_related("campaign").filter(pk=account_id).first()
    return leads_receive(account=account, leadgen_ids=leadgen_ids) if account else 0
