"""Writes on territory data: polling-station boundaries from GeoJSON, and locating
the campaign's people's addresses in polling stations (geocoding). Both are jobs."""

from __future__ import annotations

from typing import Any

import shapely
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from suffrage.core.audit import audit_record
from suffrage.core.jobs import JobProgress, job_create, job_enqueue, job_run
from suffrage.core.models import Campaign, Job, User
from suffrage.imports.normalise import search_key
from suffrage.people.models import PostalAddress
from suffrage.territory.geometry import AddressPoint as GeoPoint
from suffrage.territory.geometry import BoundaryMapping, Geocoder, StationArea, approximate_areas, read_boundaries
from suffrage.territory.maps import shapes_changed
from suffrage.territory.models import AddressPoint, CampaignCommune, Commune, PollingStation, departement_of
from suffrage.territory.selectors import campaign_stations

GEOCODE_CHUNK = 2000


@transaction.atomic
def boundaries_import_start(
    *, campaign: Campaign, data: bytes, filename: str, mapping: BoundaryMapping | None, actor: User
) -> Job:
    from suffrage.territory.tasks import boundaries_import_task

    path = default_storage.save(f"imports/boundaries/{filename}", ContentFile(data))
    params: dict[str, Any] = {"path": path, "mapping": mapping.__dict__ if mapping else None}
    job = job_create(
        campaign=campaign,
        kind="boundaries_import",
        label=_("Boundaries from %(file)s") % {"file": filename},
        created_by=actor,
        required_permission="territory.import_territory",
        params=params,
    )
    audit_record(action="territory.import_boundaries", campaign=campaign, obj=job, actor=actor)
    job_enqueue(job, boundaries_import_task)
    return job


def boundaries_import_run(*, job_id: int) -> Job:
    def work(progress: JobProgress) -> dict[str, Any]:
        job = progress.job
        with default_storage.open(job.params["path"], "rb") as handle:
            data = handle.read()
        mapping = BoundaryMapping(**job.params["mapping"]) if job.params.get("mapping") else None
        areas, problems = read_boundaries(data, mapping=mapping)
        progress.set_total(len(areas))
        for problem in problems:
            progress.error(problem)
        with transaction.atomic():
            for area in areas:
                progress.advance(**{_store_area(job.campaign, area): 1})
        shapes_changed()
        return progress.summary()

    return job_run(job_id, work)


def _store_area(campaign: Campaign, area: StationArea) -> str:
    commune, _created = Commune.objects.get_or_create(
        code=area.commune_code, defaults={"name": area.commune_code, "departement": departement_of(area.commune_code)}
    )
    CampaignCommune.objects.get_or_create(campaign=campaign, commune=commune)
    defaults: dict[str, Any] = {
        "commune": commune,
        "number": area.number,
        "geometry": shapely.geometry.mapping(area.geometry),
        "approximate": area.approximate,
    }
    if area.name:
        defaults["name"] = area.name
    _station, created = PollingStation.objects.update_or_create(code=area.code, defaults=defaults)
    return "created" if created else "updated"


@transaction.atomic
def geocode_start(*, campaign: Campaign, actor: User | None, only_new: bool = True) -> Job:
    from suffrage.territory.tasks import geocode_task

    job = job_create(
        campaign=campaign,
        kind="geocode",
        label=_("Locating addresses in polling stations"),
        created_by=actor,
        required_permission="territory.import_territory",
        params={"only_new": only_new},
    )
    job_enqueue(job, geocode_task)
    return job


def campaign_geocoder(campaign: Campaign) -> Geocoder:
    """Areas of the campaign's polling stations and the address points of its communes."""
    stations = campaign_stations(campaign).exclude(geometry=None)
    areas = [
        StationArea(
            code=s.code,
            commune_code=s.commune.code,
            number=s.number,
            name=s.name,
            geometry=shapely.geometry.shape(s.geometry),
            approximate=s.approximate,
        )
        for s in stations
    ]
    communes = list(campaign.communes.values_list("commune__code", flat=True))
    points = AddressPoint.objects.filter(commune_code__in=communes).select_related("station")
    return Geocoder(areas=areas, points=[_point(p) for p in points.iterator(chunk_size=10_000)])


def _point(point: AddressPoint) -> GeoPoint:
    return GeoPoint(
        lon=point.lon,
        lat=point.lat,
        station_code=point.station.code if point.station else "",
        street=point.street,
        number=point.number,
        commune_code=point.commune_code,
    )


def geocode_run(*, job_id: int) -> Job:
    def work(progress: JobProgress) -> dict[str, Any]:
        campaign = progress.job.campaign
        geocoder = campaign_geocoder(campaign)
        communes = {
            search_key(name): code for code, name in campaign.communes.values_list("commune__code", "commune__name")
        }
        stations = {s.code: s.pk for s in campaign_stations(campaign)}
        addresses = PostalAddress.objects.filter(person__campaign=campaign).order_by("pk")
        if progress.job.params.get("only_new"):
            addresses = addresses.filter(polling_station=None)
        progress.set_total(addresses.count())
        batch: list[PostalAddress] = []
        for address in addresses.iterator(chunk_size=GEOCODE_CHUNK):
            batch.append(address)
            if len(batch) >= GEOCODE_CHUNK:
                _locate(geocoder, communes, stations, batch, progress)
                batch = []
        _locate(geocoder, communes, stations, batch, progress)
        return progress.summary()

    return job_run(job_id, work)


def _locate(
    geocoder: Geocoder,
    communes: dict[str, str],
    stations: dict[str, int],
    addresses: list[PostalAddress],
    progress: JobProgress,
) -> None:
    queries = [
        {
            "commune_code": a.insee_code or communes.get(search_key(a.town), ""),
            "street": a.street,
            "number": f"{a.number}{a.repetition}",
            "lon": a.lon,
            "lat": a.lat,
        }
        for a in addresses
    ]
    for address, result in zip(addresses, geocoder.locate_many(queries), strict=True):
        address.polling_station_id = stations.get(result.station_code or "")
        address.geocode_method = result.method if address.polling_station_id else "unknown"
        progress.advance(**{address.geocode_method: 1})
    PostalAddress.objects.bulk_update(addresses, ["polling_station", "geocode_method"])


@transaction.atomic
def approximate_areas_start(*, campaign: Campaign, actor: User) -> Job:
    from suffrage.territory.tasks import approximate_areas_task

    job = job_create(
        campaign=campaign,
        kind="approximate_areas",
        label=_("Approximate areas from address points"),
        created_by=actor,
        required_permission="territory.import_territory",
    )
    job_enqueue(job, approximate_areas_task)
    return job


def approximate_areas_run(*, job_id: int) -> Job:
    """For each of the campaign's communes with no boundary at all, areas from its address points."""

    def work(progress: JobProgress) -> dict[str, Any]:
        campaign = progress.job.campaign
        codes = list(campaign.communes.values_list("commune__code", flat=True))
        shaped = set(
            PollingStation.objects.filter(commune__code__in=codes, approximate=False)
            .exclude(geometry=None)
            .values_list("commune__code", flat=True)
        )
        todo = [code for code in codes if code not in shaped]
        progress.set_total(len(todo))
        for code in todo:
            points = AddressPoint.objects.filter(commune_code=code).exclude(station=None).select_related("station")
            areas = approximate_areas([_point(p) for p in points.iterator(chunk_size=10_000)])
            for area in areas:
                PollingStation.objects.filter(code=area.code).update(
                    geometry=shapely.geometry.mapping(area.geometry), approximate=True
                )
            progress.advance(communes=1, approximated=len(areas))
        shapes_changed()
        return progress.summary()

    return job_run(job_id, work)
