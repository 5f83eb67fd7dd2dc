"""What segments hold about a person (see privacy.erasure): their membership of
snapshots (static lists, the recipients of a send, an export's people)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.people.models import Person
from suffrage.privacy.access import table
from suffrage.privacy.erasure import Eraser, Part
from suffrage.segments.models import Segment, Snapshot, SnapshotMember

PURPOSES = {
    "static_list": gettext_lazy("Static list"),
    "mailing": gettext_lazy("Recipients of a mailing"),
    "export": gettext_lazy("Export"),
    "turf": gettext_lazy("Canvassing area"),
}


def report(person: Person) -> dict[str, Any]:
    snapshot_ids = SnapshotMember.objects.filter(person_id=person.pk).values("snapshot_id")
    snapshots = list(
        Snapshot.objects.filter(campaign_id=person.campaign_id, pk__in=snapshot_ids).order_by("created_at", "pk")
    )
    ids = [snapshot.pk for snapshot in snapshots]
    names: dict[int, list[str]] = {}
    mailing = apps.get_model("messaging", "Mailing")
    for model in (Segment, mailing):
        pairs = model.objects.filter(campaign_id=person.campaign_id, snapshot_id__in=ids).values_list(
            "snapshot_id", "name"
        )
        for snapshot_id, name in pairs:
            names.setdefault(snapshot_id, []).append(name)
    return {
        "snapshots": table(
            _("Lists you were part of"),
            {"name": _("Name"), "purpose": _("Purpose"), "created_at": _("Date")},
            [
                {
                    "name": names.get(snapshot.pk, []),
                    "purpose": str(PURPOSES.get(snapshot.purpose, snapshot.purpose)),
                    "created_at": snapshot.created_at,
                }
                for snapshot in snapshots
            ],
        ),
    }


ERASERS = [
    Eraser(
        app_label="segments",
        label=gettext_lazy("Segments"),
        report=report,
        report_order=60,
        parts=(
            Part(
                "segments.SnapshotMember",
                gettext_lazy("Membership of frozen lists and send lists"),
                lambda t: SnapshotMember.objects.filter(person_id__in=t.ids, snapshot__campaign_id=t.campaign_id),
            ),
        ),
    ),
]
