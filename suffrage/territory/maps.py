"""The map's GeoJSON: simplified station shapes (cached) joined with the chosen measure."""

from __future__ import annotations

from typing import Any

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


def station_shapes(campaign: Campaign) -> list[dict[str, Any]]:
    """GeoJSON features (without measures) of the campaign's stations that have a shape."""
    stations = campaign_stations(campaign).exclude(geometry=None)
    # Imports of boundaries bump the version; new stations or communes change the count and last id.
    seen = stations.aggregate(n=Count("pk"), last=Max("pk"))
    key = f"map-shapes:{campaign.pk}:{seen['n']}:{seen['last']}:{cache.get(VERSION_KEY, 0)}"
    features: list[dict[str, Any]] | None = cache.get(key)
    if features is None:
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
        features = simplify_for_map(areas)["features"]
        cache.set(key, features, CACHE_SECONDS)
    return features


def map_geojson(campaign: Campaign, values: dict[str, float | None]) -> dict[str, Any]:
    features = [
        {**feature, "properties": {**feature["properties"], "value": values.get(feature["properties"]["code"])}}
        for feature in station_shapes(campaign)
    ]
    return {"type": "FeatureCollection", "features": features}
