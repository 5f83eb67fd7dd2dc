"""Shared reference data about places: communes, polling stations with their
boundaries, address points, census areas. Public data, not owned by a campaign:
one copy serves every campaign of the installation."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


def departement_of(commune_code: str) -> str:
    """ "29019" → "29"; overseas "97101" → "971"."""
    return commune_code[:3] if commune_code.startswith("97") else commune_code[:2]


class Commune(models.Model):
    # INSEE code in France ("29019"); a county's name in US files ("New Castle").
    code = models.CharField(_("INSEE code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=150)
    departement = models.CharField(_("département"), max_length=3, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("commune")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PollingStation(models.Model):
    """A bureau de vote. `code` is the national key: INSEE commune code + "_" + 4-digit number."""

    code = models.CharField(_("code"), max_length=100, unique=True)
    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="polling_stations")
    number = models.CharField(_("number"), max_length=50)
    name = models.CharField(_("polling place"), max_length=200, blank=True)
    # As the Ministry's legislative files write it ("2" for the 2nd constituency of the département).
    constituency = models.CharField(_("constituency"), max_length=20, blank=True)
    # GeoJSON geometry in lon/lat; empty when no boundary is known.
    geometry = models.JSONField(null=True, blank=True)
    # True when the area was computed from address points, not an official boundary.
    approximate = models.BooleanField(default=False)
    dwellings = models.PositiveIntegerField(_("dwellings"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("polling station")

    def __str__(self) -> str:
        label = f"{self.commune.name} n° {self.number.lstrip('0') or '0'}"
        return f"{label} — {self.name}" if self.name else label


class AddressPoint(models.Model):
    """A geocoded address (INSEE electoral-register table or Base Adresse Nationale)."""

    # The point's key in its source ("ban:<id>", "reu:<station>:<lon>:<lat>"): re-imports add nothing.
    source_id = models.CharField(max_length=80, unique=True)
    commune_code = models.CharField(max_length=5, db_index=True)
    station = models.ForeignKey(PollingStation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lon = models.FloatField()
    lat = models.FloatField()
    street = models.CharField(max_length=200, blank=True)  # street_key(): lowercase, no accents
    number = models.CharField(max_length=10, blank=True)
    dwellings = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["commune_code", "street", "number"], name="address_point_lookup")]

    def __str__(self) -> str:
        return f"{self.number} {self.street} {self.commune_code}".strip()


class CensusArea(models.Model):
    """An INSEE IRIS area and its indicators for one census year."""

    code = models.CharField(max_length=9)
    year = models.PositiveSmallIntegerField()
    commune_code = models.CharField(max_length=5, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    indicators = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "year"], name="census_area_unique")]

    def __str__(self) -> str:
        return f"{self.code} ({self.year})"


class CensusShare(models.Model):
    """Which share of a census area lies in a polling station (by address points or surface)."""

    area = models.ForeignKey(CensusArea, on_delete=models.CASCADE, related_name="shares")
    station = models.ForeignKey(PollingStation, on_delete=models.CASCADE, related_name="census_shares")
    share = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area", "station"], name="census_share_unique")]

    def __str__(self) -> str:
        return f"{self.area_id}→{self.station_id}: {self.share:.2f}"


class CampaignCommune(models.Model):
    """The communes a campaign works on: its maps and tables show their polling stations."""

    campaign = models.ForeignKey("core.Campaign", on_delete=models.CASCADE, related_name="communes")
    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "commune"], name="campaign_commune_unique")]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.commune_id}"
