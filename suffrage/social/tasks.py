"""Social tasks: thin, taking ids; safe to run twice (publications are claimed)."""

from django_tasks import task

from suffrage.social.models import SocialAccount
from suffrage.social.posts import publications_run
from suffrage.social.services import leads_receive


@task()
def leads_fetch_task(account_id: int, leadgen_ids: list[str]) -> int:
    account = SocialAccount.objects.select_related("campaign").filter(pk=account_id).first()
    return leads_receive(account=account, leadgen_ids=leadgen_ids) if account else 0


@task()
def post_publish_task(post_id: int) -> bool:
    """Publish a post on its accounts; come back when a network asked to wait (backends
    that cannot defer rely on `manage.py social_tick`)."""
    later = publications_run(post_id)
    if later is not None and post_publish_task.get_backend().supports_defer:
        post_publish_task.using(run_after=later).enqueue(post_id)
    return later is None
