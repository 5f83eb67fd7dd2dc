"""Row handler for address points: INSEE's electoral-register address table (REU,
one point per address with its polling station) and the Base Adresse Nationale
(BAN: street and number, no polling station). Recognised from the header."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from suffrage.core.bulk import insert_rows
from suffrage.imports.models import ImportBatch, ImportRow
from suffrage.imports.pipeline import MappedRow, Verdict
from suffrage.territory.geometry import normalise_station_code, number_key, street_key
from suffrage.territory.models import AddressPoint, CampaignCommune, Commune, PollingStation, departement_of

REU_COLUMNS = {"id_brut_bv_reu", "code_commune_ref", "longitude", "latitude"}
BAN_COLUMNS = {"id", "numero", "nom_voie", "code_insee", "nom_commune", "lon", "lat"}


class AddressFormatError(ValueError):
    pass


def detect_address_format(headers: list[str]) -> str:
    names = {header.strip().lower() for header in headers}
    if names >= REU_COLUMNS:
        return "reu"
    if names >= BAN_COLUMNS:
        return "ban"
    raise AddressFormatError(
        _("Not an address file we know: expected the electoral-register table (%(reu)s) or the BAN (%(ban)s).")
        % {"reu": ", ".join(sorted(REU_COLUMNS)), "ban": ", ".join(sorted(BAN_COLUMNS))}
    )


class AddressPointsImporter:
    uses_mapping = False
    chunk_rows = 5000

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.format = detect_address_format(batch.headers)
        self.columns = {header.strip().lower(): index for index, header in enumerate(batch.headers)}
        self.communes: set[str] = set()

    def process(self, rows: list[MappedRow]) -> list[Verdict]:
        parsed: dict[int, dict[str, Any]] = {}
        verdicts: dict[int, Verdict] = {}
        for row in rows:
            try:
                parsed[row.number] = self._parse(row.cells)
            except (ValueError, IndexError) as error:
                message = {"field": "", "message": str(error) or _("This row cannot be read.")}
                verdicts[row.number] = Verdict(ImportRow.Verdict.REJECTED, messages=[message])
        existing = set(
            AddressPoint.objects.filter(source_id__in=[p["source_id"] for p in parsed.values()]).values_list(
                "source_id", flat=True
            )
        )
        stations = self._stations({p["station"] for p in parsed.values() if p["station"]}, parsed.values())
        new = []
        for number, point in parsed.items():
            if point["source_id"] in existing:
                verdicts[number] = Verdict(ImportRow.Verdict.SKIPPED)
                continue
            existing.add(point["source_id"])
            station_code = point.pop("station")
            new.append({**point, "station_id": stations.get(station_code)})
            verdicts[number] = Verdict(ImportRow.Verdict.CREATED)
        insert_rows(AddressPoint, new)
        return [verdicts[row.number] for row in rows]

    def _cell(self, cells: list[str], name: str) -> str:
        return cells[self.columns[name]].strip()

    def _parse(self, cells: list[str]) -> dict[str, Any]:
        lon, lat = self._coordinates(cells)
        if self.format == "reu":
            station = normalise_station_code(self._cell(cells, "id_brut_bv_reu"))
            commune = self._cell(cells, "code_commune_ref")
            dwellings = self._cell(cells, "nb_adresses") if "nb_adresses" in self.columns else "1"
            return {
                "source_id": f"reu:{station}:{lon:.6f}:{lat:.6f}",
                "commune_code": commune,
                "station": station,
                "lon": lon,
                "lat": lat,
                "street": "",
                "number": "",
                "dwellings": int(dwellings or 1),
            }
        number = number_key(f"{self._cell(cells, 'numero')}{self._cell(cells, 'rep') if 'rep' in self.columns else ''}")
        return {
            "source_id": f"ban:{self._cell(cells, 'id')}",
            "commune_code": self._cell(cells, "code_insee"),
            "station": "",
            "lon": lon,
            "lat": lat,
            "street": street_key(self._cell(cells, "nom_voie")),
            "number": number,
            "dwellings": 1,
        }

    def _coordinates(self, cells: list[str]) -> tuple[float, float]:
        names = ("longitude", "latitude") if self.format == "reu" else ("lon", "lat")
        try:
            lon, lat = (float(self._cell(cells, name).replace(",", ".")) for name in names)
        except ValueError:
            raise ValueError(_("Longitude and latitude must be numbers.")) from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(_("Coordinates out of range: %(lon)s, %(lat)s.") % {"lon": lon, "lat": lat})
        return lon, lat

    def _stations(self, codes: set[str], points: Any) -> dict[str, int]:
        """Polling stations by code; the register's stations are created when new."""
        for point in points:
            code = point["commune_code"]
            if code and code not in self.communes:
                commune, _created = Commune.objects.get_or_create(
                    code=code, defaults={"name": code, "departement": departement_of(code)}
                )
                CampaignCommune.objects.get_or_create(campaign=self.batch.campaign, commune=commune)
                self.communes.add(code)
        known = dict(PollingStation.objects.filter(code__in=codes).values_list("code", "pk"))
        communes = dict(Commune.objects.filter(code__in={c.split("_")[0] for c in codes}).values_list("code", "pk"))
        missing = [
            PollingStation(code=code, commune_id=communes[code.split("_")[0]], number=code.split("_")[1])
            for code in codes - set(known)
            if code.split("_")[0] in communes
        ]
        PollingStation.objects.bulk_create(missing, ignore_conflicts=True)
        if missing:
            known.update(PollingStation.objects.filter(code__in=[s.code for s in missing]).values_list("code", "pk"))
        return known
