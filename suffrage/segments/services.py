"""Writes on segments: save a dynamic segment, freeze a static list, take a snapshot
of who a send or an export targets. All audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User
from suffrage.segments.compiler import check_cycles, context_for, segment_people
from suffrage.segments.language import Context, FilterError
from suffrage.segments.models import Segment, Snapshot, SnapshotMember


@transaction.atomic
def segment_save(
    *,
    campaign: Campaign,
    name: str,
    document: Any,
    actor: User,
    description: str = "",
    segment: Segment | None = None,
    context: Context | None = None,
) -> Segment:
    """Create or update a dynamic segment; the document must compile (no cycle)."""
    context = context or context_for(campaign)
    try:
        check_cycles(segment.pk if segment else None, document, context)
    except FilterError as error:
        raise ValidationError(str(error)) from error
    others = Segment.objects.filter(campaign=campaign, name=name)
    if (others.exclude(pk=segment.pk) if segment else others).exists():
        raise ValidationError(_("Another segment already has this name."))
    created = segment is None
    segment = segment or Segment(campaign=campaign, created_by=actor, kind=Segment.Kind.DYNAMIC)
    before = {"name": segment.name, "document": segment.document}
    segment.name, segment.description, segment.document = name, description, document
    segment.save()
    audit_record(
        action="segment.create" if created else "segment.update",
        campaign=campaign,
        obj=segment,
        actor=actor,
        changes={"name": [before["name"], name], "document": [before["document"], document]},
    )
    return segment


def snapshot_create(
    *, campaign: Campaign, document: Any, purpose: str, actor: User | None, context: Context | None = None
) -> Snapshot:
    """Record exactly who the filter selects now: one INSERT … SELECT, whatever the size."""
    people = segment_people(campaign, document, context)
    with transaction.atomic():
        snapshot = Snapshot.objects.create(campaign=campaign, purpose=purpose, document=document, created_by=actor)
        # No ORDER BY (Person sorts by name by default): sorting half a million rows only to insert them.
        sql, params = people.order_by().values(member=F("pk")).query.sql_with_params()
        table = SnapshotMember._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (snapshot_id, person_id) SELECT %s, selected.member FROM ({sql}) AS selected",  # noqa: S608
                [snapshot.pk, *params],
            )
        snapshot.count = SnapshotMember.objects.filter(snapshot=snapshot).count()
        snapshot.save(update_fields=["count"])
        audit_record(
            action="segment.snapshot", campaign=campaign, obj=snapshot, actor=actor, changes={"count": snapshot.count}
        )
    return snapshot


@transaction.atomic
def segment_freeze(*, campaign: Campaign, name: str, document: Any, actor: User, description: str = "") -> Segment:
    """A static list: the people who match now, kept as they are."""
    if Segment.objects.filter(campaign=campaign, name=name).exists():
        raise ValidationError(_("Another segment already has this name."))
    try:
        snapshot = snapshot_create(campaign=campaign, document=document, purpose="static_list", actor=actor)
    except FilterError as error:
        raise ValidationError(str(error)) from error
    segment = Segment.objects.create(
        campaign=campaign,
        name=name,
        description=description,
        kind=Segment.Kind.STATIC,
        document=document,
        snapshot=snapshot,
        created_by=actor,
    )
    audit_record(
        action="segment.freeze", campaign=campaign, obj=segment, actor=actor, changes={"count": snapshot.count}
    )
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, actor: User) -> None:
    users = [
        other.name
        for other in Segment.objects.filter(campaign=segment.campaign).exclude(pk=segment.pk)
        if _mentions(other.document, segment.pk)
    ]
    if users:
        raise ValidationError(
            _("Other segments use this one: %(names)s. Change them first.") % {"names": ", ".join(users)}
        )
    audit_record(action="segment.delete", campaign=segment.campaign, obj=segment, actor=actor)
    snapshot = segment.snapshot
    segment.delete()
    if snapshot is not None:
        snapshot.delete()


def _mentions(node: Any, segment_id: int) -> bool:
    if isinstance(node, dict):
        if node.get("field") == "segment" and node.get("value") == segment_id:
            return True
        return any(_mentions(value, segment_id) for value in node.values())
    if isinstance(node, list):
        return any(_mentions(item, segment_id) for item in node)
    return False
