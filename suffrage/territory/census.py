"""INSEE census figures by IRIS area, and their share in each polling station.

The files (`;`-separated) have `IRIS; COM; TYP_IRIS; LAB_IRIS` then indicators
whose prefix names the year (`P20_POP`, `C21_POP15P_CS3`…). IRIS areas do not
follow polling stations: a commune counted as a single IRIS ("…0000") is shared
between its stations in proportion to their dwellings (address points); a split
commune's areas are shared by surface once IRIS boundaries are imported
(attribute_by_iris_boundaries); until then they stay unattributed.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

import shapely
from django.db.models import Sum
from django.utils.translation import gettext as _

from suffrage.imports.models import ImportBatch, ImportRow
from suffrage.imports.pipeline import MappedRow, Verdict
from suffrage.territory.geometry import StationArea, attribute_by_overlap
from suffrage.territory.models import AddressPoint, CensusArea, CensusShare, PollingStation

IDENTITY = ("IRIS", "COM")
INDICATOR = re.compile(r"^[A-Z]+(\d{2})_[A-Z0-9_]+$")


class CensusFormatError(ValueError):
    pass


def census_year(headers: list[str]) -> int:
    names = [h.strip().upper() for h in headers]
    if not set(IDENTITY) <= set(names):
        raise CensusFormatError(_("Not an INSEE census file by IRIS: the columns IRIS and COM are missing."))
    years = {int(m.group(1)) for name in names if (m := INDICATOR.match(name))}
    if len(years) != 1:
        raise CensusFormatError(_("The indicators should all carry one year prefix (like P20_…)."))
    return 2000 + years.pop()


class CensusImporter:
    uses_mapping = False
    chunk_rows = 2000

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.year = census_year(batch.headers)
        self.names = [h.strip().upper() for h in batch.headers]
        self.indicators = [i for i, name in enumerate(self.names) if INDICATOR.match(name)]

    def process(self, rows: list[MappedRow]) -> list[Verdict]:
        verdicts = []
        communes: set[str] = set()
        for row in rows:
            cells = dict(zip(self.names, row.cells, strict=False))
            try:
                indicators = {self.names[i]: _number(row.cells[i]) for i in self.indicators if row.cells[i].strip()}
            except ValueError as error:
                verdicts.append(Verdict(ImportRow.Verdict.REJECTED, messages=[{"field": "", "message": str(error)}]))
                continue
            _area, created = CensusArea.objects.update_or_create(
                code=cells["IRIS"].strip(),
                year=self.year,
                defaults={
                    "commune_code": cells["COM"].strip(),
                    "name": cells.get("LAB_IRIS", "").strip(),
                    "indicators": indicators,
                },
            )
            communes.add(cells["COM"].strip())
            verdicts.append(Verdict(ImportRow.Verdict.CREATED if created else ImportRow.Verdict.UPDATED))
        attribute_single_iris_communes(sorted(communes))
        return verdicts


def _number(text: str) -> float:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        raise ValueError(_("%(value)s is not a number.") % {"value": text.strip()[:40]}) from None


def attribute_single_iris_communes(commune_codes: list[str]) -> int:
    """Share whole-commune IRIS areas between the commune's stations by dwellings.

    Returns the number of areas attributed."""
    done = 0
    for area in CensusArea.objects.filter(commune_code__in=commune_codes, code__endswith="0000"):
        stations = list(PollingStation.objects.filter(commune__code=area.commune_code))
        if not stations:
            continue
        dwellings: dict[int, float] = defaultdict(float)
        rows = AddressPoint.objects.filter(station__in=stations).values("station_id").annotate(n=Sum("dwellings"))
        dwellings.update({row["station_id"]: row["n"] for row in rows})
        total = sum(dwellings.values())
        CensusShare.objects.filter(area=area).delete()
        CensusShare.objects.bulk_create(
            CensusShare(
                area=area, station=station, share=(dwellings[station.pk] / total) if total else 1 / len(stations)
            )
            for station in stations
        )
        done += 1
    return done


# What a station page shows of a census year (without the year prefix), in this order.
SHOWN = (
    "POP",
    "POP0014",
    "POP1529",
    "POP3044",
    "POP4559",
    "POP6074",
    "POP75P",
    "POP15P",
    "POP15P_CS3",
    "POP15P_CS5",
    "POP15P_CS6",
)


def station_census(station: PollingStation) -> list[dict[str, Any]]:
    """For each census year, the station's estimated figures: Σ share × the area's value."""
    totals: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for share in station.census_shares.select_related("area"):
        for name, value in share.area.indicators.items():
            totals[share.area.year][name.split("_", 1)[1]] += share.share * value
    return [
        {"year": year, "figures": [(name, round(figures[name])) for name in SHOWN if name in figures]}
        for year, figures in sorted(totals.items(), reverse=True)
    ]


IRIS_PROPERTIES = ("CODE_IRIS", "code_iris", "IRIS")


def attribute_by_iris_boundaries(data: bytes) -> tuple[int, list[str]]:
    """Share census areas between polling stations by surface, from IRIS boundaries
    (IGN's CONTOURS-IRIS as GeoJSON in lon/lat: property CODE_IRIS). Returns the
    number of IRIS areas attributed and the problems found."""
    try:
        collection = json.loads(data)
        features = collection["features"]
    except (ValueError, KeyError, TypeError):
        raise CensusFormatError(_("Not a GeoJSON FeatureCollection.")) from None
    shapes: dict[str, Any] = {}
    problems = []
    for index, feature in enumerate(features, start=1):
        properties = feature.get("properties") or {}
        code = next((str(properties[name]) for name in IRIS_PROPERTIES if name in properties), "")
        try:
            shapes[code] = shapely.geometry.shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(_("Feature %(index)s has no usable geometry.") % {"index": index})
            continue
        if not code:
            problems.append(_("Feature %(index)s has no CODE_IRIS property.") % {"index": index})
    areas = {a.code: a for a in CensusArea.objects.filter(code__in=shapes)}
    communes = {a.commune_code for a in areas.values()}
    stations = [
        StationArea(
            code=s.code,
            commune_code=s.commune.code,
            number=s.number,
            name=s.name,
            geometry=shapely.geometry.shape(s.geometry),
            approximate=s.approximate,
        )
        for s in PollingStation.objects.filter(commune__code__in=communes)
        .exclude(geometry=None)
        .select_related("commune")
    ]
    by_code = {s.code: s for s in PollingStation.objects.filter(code__in=[s.code for s in stations])}
    shares = attribute_by_overlap({code: shapes[code] for code in {a.code for a in areas.values()}}, stations)
    for code, station_shares in shares.items():
        for area in CensusArea.objects.filter(code=code):
            CensusShare.objects.filter(area=area).delete()
            CensusShare.objects.bulk_create(
                CensusShare(area=area, station=by_code[station], share=share)
                for station, share in station_shares.items()
            )
    return len(shares), problems
