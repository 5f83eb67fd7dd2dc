"""The roll index is a file beside the database: when its model goes (an election
deleted, and with it its roll, versions and models, by cascade), the file goes too.
A receiver, because the cascade reaches models without calling any service."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from suffrage.roll.models import MatchModel
from suffrage.roll.services import index_discard


@receiver(post_delete, sender=MatchModel)
def _discard_index(sender: type[MatchModel], instance: MatchModel, **kwargs: Any) -> None:
    if instance.index_path:
        path = instance.index_path
        transaction.on_commit(lambda: index_discard(path))
