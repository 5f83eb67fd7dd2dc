"""Demo territory: Brest's real polling-station boundaries, and the demo people's
addresses placed in them. Demo addresses have no real coordinates: each gets a
random point inside a random Brest polling station (synthetic, like the people)."""

from __future__ import annotations

import random
from pathlib import Path

import shapely

from suffrage.core.models import Campaign
from suffrage.core.roles import Role
from suffrage.people.models import PostalAddress
from suffrage.territory.models import PollingStation
from suffrage.territory.services import boundaries_import_run, boundaries_import_start, geocode_run, geocode_start

BOUNDARIES = Path(__file__).parent / "demo_data" / "brest-bureaux-de-vote.geojson"


def load(campaign: Campaign) -> None:
    if PollingStation.objects.filter(code__startswith="29019_").exclude(geometry=None).exists():
        return
    owner = campaign.memberships.filter(role=Role.OWNER).select_related("user").first()
    actor = owner.user if owner else None
    job = boundaries_import_start(
        campaign=campaign,
        data=BOUNDARIES.read_bytes(),
        filename=BOUNDARIES.name,
        mapping=None,
        actor=actor,  # type: ignore[arg-type]
    )
    # Run now so the demo is complete at once; the queued task then finds the job done.
    boundaries_import_run(job_id=job.pk)
    _place_addresses(campaign)
    geocode_run(job_id=geocode_start(campaign=campaign, actor=actor).pk)


def _place_addresses(campaign: Campaign) -> None:
    rng = random.Random(29019)
    shapes = [
        shapely.geometry.shape(s.geometry)
        for s in PollingStation.objects.filter(code__startswith="29019_").exclude(geometry=None)
    ]
    addresses = list(PostalAddress.objects.filter(person__campaign=campaign, lon=None))
    for address in addresses:
        shape = rng.choice(shapes)
        point = _random_point(shape, rng)
        address.lon, address.lat, address.insee_code = round(point.x, 6), round(point.y, 6), "29019"
    PostalAddress.objects.bulk_update(addresses, ["lon", "lat", "insee_code"])


def _random_point(shape: shapely.Geometry, rng: random.Random) -> shapely.Point:
    west, south, east, north = shape.bounds
    while True:
        point = shapely.Point(rng.uniform(west, east), rng.uniform(south, north))
        if shape.contains(point):
            return point
