"""The map's GeoJSON: simplified station shapes (cached) joined with the chosen measure."""

from __future__ import annotations

from typing import Any

import shapely
from django.core.cache import cache

from suffrage.core.models import Campaign
from suffrage.territory.selectors import campaign_stations

# About 10 m at French latitudes: invisible at city zoom, far fewer vertices.
SIMPLIFY_TOLERANCE = 0.0001
CACHE_SECONDS = 3600
VERSION_KEY = "map-shapes-version"


def shapes_changed() -> None:
    """Called by imports that add or reshape polling stations."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, None)


def _simplified(geometry: dict[str, Any]) -> dict[str, Any]:
    shape = shapely.geometry.shape(geometry).simplify(SIMPLIFY_TOLERANCE, preserve_topology=True)
    return shapely.geometry.mapping(shapely.set_precision(shape, 0.00001))  # type: ignore[no-any-return]


def station_shapes(campaign: Campaign) -> list[dict[str, Any]]:
    """GeoJSON features (without measures) of the campaign's stations that have a shape."""
    stations = campaign_stations(campaign).exclude(geometry=None)
    # Imports of boundaries bump the version; a campaign adding communes changes the count.
    key = f"map-shapes:{campaign.pk}:{campaign.communes.count()}:{cache.get(VERSION_KEY, 0)}"
    features: list[dict[str, Any]] | None = cache.get(key)
    if features is None:
        features = [
            {
                "type": "Feature",
                "geometry": _simplified(station.geometry or {}),
                "properties": {
                    "code": station.code,
                    "name": str(station),
                    "approximate": station.approximate,
                },
            }
            for station in stations
        ]
        cache.set(key, features, CACHE_SECONDS)
    return features


def map_geojson(campaign: Campaign, values: dict[str, float | None]) -> dict[str, Any]:
    features = [
        {**feature, "properties": {**feature["properties"], "value": values.get(feature["properties"]["code"])}}
        for feature in station_shapes(campaign)
    ]
    return {"type": "FeatureCollection", "features": features}
