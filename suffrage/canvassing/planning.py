"""Planning door-to-door: the doors of a canvass's area cut into turfs (a job), and
turfs handed to volunteers, one volunteer at a time."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_tasks import task

from suffrage.canvassing.area import area_validate, doors_for_area
from suffrage.canvassing.models import Canvass, Door, Turf, Visit
from suffrage.canvassing.turfs import TurfPlan, cut
from suffrage.core.access import role_can
from suffrage.core.audit import audit_record, diff, snapshot
from suffrage.core.jobs import JobProgress, job_create, job_enqueue, job_run
from suffrage.core.models import Campaign, Job, Membership, User
from suffrage.territory.models import PollingStation

ASSIGNMENT_DAYS = 7
DOOR_CHUNK = 5000
ASSIGNMENT_FIELDS = ("assigned_to", "assigned_at", "expires_at")
# Every column of a door but its id: the rows written by _write.
DOOR_COLUMNS = (
    "campaign",
    "canvass",
    "turf",
    "station",
    "street",
    "number",
    "building",
    "stairwell",
    "floors",
    "dwellings",
    "lon",
    "lat",
    "position",
)


def _check_plannable(canvass: Canvass) -> None:
    if canvass.kind == Canvass.Kind.PHONE:
        raise ValidationError(_("A phone bank has no doors: its list is a segment of people to call."))
    if not canvass.area:
        raise ValidationError(_("Choose the canvass's area first: polling stations, a shape or a segment."))
    if canvass.turf_size < 1:
        raise ValidationError({"turf_size": _("A turf holds at least one door.")})
    if Visit.objects.filter(canvass=canvass).exists():
        raise ValidationError(
            _("Volunteers have already knocked on doors of this canvass: its turfs can no longer be cut again.")
        )


@transaction.atomic
def canvass_plan_start(*, canvass: Canvass, actor: User | None) -> Job:
    """Check the canvass can be cut, then cut it in a job (progress on the job's page)."""
    _check_plannable(canvass)
    area_validate(canvass.campaign, canvass.area)
    job = job_create(
        campaign=canvass.campaign,
        kind="canvass_plan",
        label=_("Cutting the turfs of %(canvass)s") % {"canvass": canvass.name},
        created_by=actor,
        required_permission="canvassing.edit_canvassing",
        params={"canvass_id": canvass.pk},
    )
    audit_record(action="canvassing.plan", campaign=canvass.campaign, obj=canvass, actor=actor, changes=job.params)
    job_enqueue(job, canvass_plan_task)
    return job


def canvass_plan_run(*, job_id: int) -> Job:
    def work(progress: JobProgress) -> dict[str, Any]:
        job = progress.job
        canvass = Canvass.objects.select_related("campaign").get(pk=job.params["canvass_id"], campaign=job.campaign)
        progress.reset()
        return canvass_plan(canvass=canvass, actor=job.created_by, progress=progress)

    return job_run(job_id, work)


@task()
def canvass_plan_task(job_id: int) -> None:
    canvass_plan_run(job_id=job_id)


def canvass_plan(*, canvass: Canvass, actor: User | None, progress: JobProgress | None = None) -> dict[str, int]:
    """Replace the canvass's doors and turfs by a fresh cut of its area; {doors, turfs}."""
    _check_plannable(canvass)
    doors = doors_for_area(canvass.campaign, canvass.area)
    plans = cut(doors, canvass.turf_size, unnamed_street=_("no street name"))
    if progress is not None:
        progress.set_total(len(doors))
    stations = dict(
        PollingStation.objects.filter(code__in={plan.station for plan in plans if plan.station}).values_list(
            "code", "pk"
        )
    )
    with transaction.atomic():
        # Locks the canvass: two cuts of one canvass run one after the other.
        Canvass.objects.select_for_update().filter(pk=canvass.pk).first()
        _check_plannable(canvass)
        if connection.vendor == "postgresql":
            # Django's foreign keys are deferred to COMMIT, which then queues and checks
            # ~400,000 of them for 100,000 doors; checked as rows go (parents are written
            # first), the same checks cost a fifth less.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        removed = _remove_unvisited(canvass)
        turfs = Turf.objects.bulk_create(
            Turf(
                campaign=canvass.campaign,
                canvass=canvass,
                name=plan.name[:200],
                station_id=stations.get(plan.station),
                doors_count=len(plan.doors),
            )
            for plan in plans
        )
        rows: list[tuple[Any, ...]] = []
        for turf, plan in zip(turfs, plans, strict=True):
            rows.extend(_door_rows(canvass, turf, plan))
            if len(rows) >= DOOR_CHUNK:
                _write(rows, progress)
                rows = []
        _write(rows, progress)
        counts = {"doors": len(doors), "turfs": len(plans)}
        audit_record(
            action="canvassing.turfs_cut",
            campaign=canvass.campaign,
            obj=canvass,
            actor=actor,
            changes={**counts, "replaced_doors": removed},
        )
    if progress is not None:
        progress.advance(0, turfs=len(plans))
    return counts


def _door_rows(canvass: Canvass, turf: Turf, plan: TurfPlan) -> list[tuple[Any, ...]]:
    """The turf's doors as rows of DOOR_COLUMNS, in walking order."""
    campaign, canvass_id, turf_id, station = canvass.campaign_id, canvass.pk, turf.pk, turf.station_id
    return [
        (
            campaign,
            canvass_id,
            turf_id,
            station,
            door.street[:200],
            door.number[:20],
            door.building[:100],
            door.stairwell[:50],
            door.floors[:100],
            door.dwellings,
            door.lon,
            door.lat,
            position,
        )
        for position, door in enumerate(plan.doors)
    ]


def _write(rows: list[tuple[Any, ...]], progress: JobProgress | None) -> None:
    """INSERT (COPY on PostgreSQL) door rows. Like core.bulk.insert_rows, but from tuples
    in column order: its per-value lookups were half the time of a 100,000-door cut."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(Door._meta.db_table)
    fields = {field.name: field.column for field in Door._meta.concrete_fields if not field.primary_key}
    if set(fields) != set(DOOR_COLUMNS):  # the model changed: every column must be written
        raise RuntimeError(f"Door's columns changed: update DOOR_COLUMNS ({sorted(set(fields) ^ set(DOOR_COLUMNS))})")
    columns = ", ".join(quote(fields[name]) for name in DOOR_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(DOOR_COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)  # noqa: S608
    if progress is not None:
        progress.advance(len(rows), doors=len(rows))


def _remove_unvisited(canvass: Canvass) -> int:
    """The canvass's doors nobody has knocked at, and its turfs left without doors."""
    visited = Visit.objects.filter(door=OuterRef("pk"))
    # A raw delete: no door to cascade to (no visit), and 100,000 instances not loaded.
    removed = Door.objects.filter(canvass=canvass).exclude(Exists(visited))._raw_delete(Door.objects.db)
    Turf.objects.filter(canvass=canvass).exclude(Exists(Door.objects.filter(turf=OuterRef("pk")))).delete()
    return removed


# --- Assignments ----------------------------------------------------------------------


def _holder(turf: Turf, now: datetime.datetime) -> User | None:
    """Who holds the turf now (an expired assignment holds nothing)."""
    if turf.assigned_to is None or (turf.expires_at is not None and turf.expires_at <= now):
        return None
    return turf.assigned_to


def can_canvass(campaign: Campaign, user: User) -> bool:
    """A member of the campaign whose role may knock on doors."""
    membership = Membership.objects.filter(campaign=campaign, user=user).first()
    return membership is not None and role_can(membership.role, "canvassing.canvass")


@transaction.atomic
def turf_assign(
    *, turf: Turf, volunteer: User | None, actor: User | None, expires_at: datetime.datetime | None = None
) -> Turf:
    """Hand the turf to a volunteer until `expires_at` (7 days by default); None releases it.
    A turf held by someone else must be released first: its doors are theirs meanwhile."""
    locked = Turf.objects.select_for_update().select_related("campaign").get(pk=turf.pk)
    now = timezone.now()
    before = snapshot(locked, ASSIGNMENT_FIELDS)
    if volunteer is None:
        locked.assigned_to, locked.assigned_at, locked.expires_at = None, None, None
        action = "canvassing.turf_release"
    else:
        if not can_canvass(locked.campaign, volunteer):
            raise ValidationError(
                _("%(name)s cannot canvass for this campaign: only its volunteers and organisers can hold a turf.")
                % {"name": volunteer}
            )
        holder = _holder(locked, now)
        if holder is not None and holder.pk != volunteer.pk:
            raise ValidationError(
                _("%(name)s holds this turf until %(date)s: release it before giving it to someone else.")
                % {"name": holder, "date": _short_date(locked.expires_at)}
            )
        expires_at = expires_at or now + datetime.timedelta(days=ASSIGNMENT_DAYS)
        if expires_at <= now:
            raise ValidationError({"expires_at": _("The assignment must end in the future.")})
        if holder is None:
            locked.assigned_at = now
        locked.assigned_to, locked.expires_at = volunteer, expires_at
        action = "canvassing.turf_assign"
    locked.save(update_fields=list(ASSIGNMENT_FIELDS))
    turf.assigned_to, turf.assigned_at, turf.expires_at = locked.assigned_to, locked.assigned_at, locked.expires_at
    audit_record(
        action=action,
        campaign=locked.campaign,
        obj=locked,
        actor=actor,
        changes=diff(before, snapshot(locked, ASSIGNMENT_FIELDS)),
    )
    return locked


def _short_date(moment: datetime.datetime | None) -> str:
    if moment is None:
        return _("further notice")
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def turfs_held(*, campaign: Campaign, user: User) -> QuerySet[Turf]:
    """The turfs this user holds now (assignment not expired), while they may canvass."""
    if not can_canvass(campaign, user):
        return Turf.objects.none()
    now = timezone.now()
    return (
        Turf.objects.filter(campaign=campaign, assigned_to=user)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("canvass", "station")
    )
