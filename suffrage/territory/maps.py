"""The map's GeoJSON: simplified station shapes (cached) joined with the chosen measure."""

from __future__ import annotations

import json

import shapely
from django.core.cache import cache
from django.db.models import Count, Max

from suffrage.core.models import Campaign
from suffrage.territory.geometry import StationArea, simplify_for_map
from suffrage.territory.selectors import campaign_stations

CACHE_SECONDS = 3600
VERSION_KEY = "map-shapes-version"


def shapes_changed() -> None:
    """Called by imports that add or reshape polling stations."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, None)


def station_shapes(campaign: Campaign) -> list[tuple[str, str]]:
    """For each of the campaign's stations with a shape: (code, its GeoJSON feature
    serialised up to the value, which each request writes in). Simplified and
    serialised once, then cached as text (cheap to load from any cache)."""
    stations = campaign_stations(campaign).exclude(geometry=None)
    # Imports of boundaries bump the version; new stations or communes change the count and last id.
    seen = stations.aggregate(n=Count("pk"), last=Max("pk"))
    key = f"map-shapes:{campaign.pk}:{seen['n']}:{seen['last']}:{cache.get(VERSION_KEY, 0)}"
    shapes: list[tuple[str, str]] | None = cache.get(key)
    if shapes is None:
        areas = [
            StationArea(
                code=station.code,
                commune_code=station.commune.code,
                number=station.number,
                name=str(station),
                geometry=shapely.geometry.shape(station.geometry),
                approximate=station.approximate,
            )
            for station in stations
        ]
        shapes = []
        for feature in simplify_for_map(areas)["features"]:
            text = json.dumps({**feature, "properties": {**feature["properties"], "value": None}})
            # "value" is the last member of the last object: cut just before its null.
            shapes.append((feature["properties"]["code"], text[: text.rindex("null}}")]))
        cache.set(key, shapes, CACHE_SECONDS)
    return shapes


def map_geojson(campaign: Campaign, values: dict[str, float | None]) -> bytes:
    """The FeatureCollection as JSON bytes, with each station's value written in."""
    features = ",".join(f"{prefix}{json.dumps(values.get(code))}}}}}" for code, prefix in station_shapes(campaign))
    return ('{"type":"FeatureCollection","features":[' + features + "]}").encode()
