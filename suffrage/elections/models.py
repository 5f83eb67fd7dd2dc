"""Official results of past elections by polling station (shared reference data),
and each campaign's own reading of them: political blocs and priority rankings."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign
from suffrage.territory.models import PollingStation


class Election(models.Model):
    class Kind(models.TextChoices):
        MUNICIPAL = "municipal", _("Municipal")
        LEGISLATIVE = "legislative", _("Legislative")
        PRESIDENTIAL = "presidential", _("Presidential")
        EUROPEAN = "european", _("European")
        DEPARTMENTAL = "departmental", _("Departmental")
        REGIONAL = "regional", _("Regional")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["-year", "kind"]
        constraints = [models.UniqueConstraint(fields=["kind", "year", "name"], name="election_unique")]

    def __str__(self) -> str:
        return self.name


class Round(models.Model):
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("round"), default=1)
    date = models.DateField(_("date"), null=True, blank=True)

    class Meta:
        ordering = ["election", "number"]
        constraints = [models.UniqueConstraint(fields=["election", "number"], name="round_unique")]

    def __str__(self) -> str:
        return f"{self.election} — {self.number}"


class StationResult(models.Model):
    """One polling station's figures for one round."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="results")
    station = models.ForeignKey(PollingStation, on_delete=models.CASCADE, related_name="results")
    registered = models.PositiveIntegerField(_("registered"))
    voters = models.PositiveIntegerField(_("voters"))
    abstentions = models.PositiveIntegerField(_("abstentions"), null=True, blank=True)
    blank = models.PositiveIntegerField(_("blank"), null=True, blank=True)
    null = models.PositiveIntegerField(_("null"), null=True, blank=True)
    valid = models.PositiveIntegerField(_("valid votes"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "station"], name="station_result_unique")]

    def __str__(self) -> str:
        return f"{self.round} / {self.station_id}"

    @property
    def turnout(self) -> float | None:
        return self.voters / self.registered if self.registered else None


class CandidateVotes(models.Model):
    result = models.ForeignKey(StationResult, on_delete=models.CASCADE, related_name="candidates")
    panel = models.CharField(max_length=10, blank=True)
    # Ministry family code ("UG", "RN"…) or, in US files, the party's name.
    nuance = models.CharField(_("political family"), max_length=100, blank=True, db_index=True)
    name = models.CharField(max_length=200)
    first_name = models.CharField(max_length=100, blank=True)
    votes = models.PositiveIntegerField()
    elected = models.BooleanField(null=True)

    class Meta:
        ordering = ["-votes"]

    def __str__(self) -> str:
        return f"{self.name}: {self.votes}"


class Bloc(models.Model):
    """A campaign's grouping of the Ministry's family codes, to compare elections."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="blocs")
    name = models.CharField(_("name"), max_length=60)
    nuances = models.JSONField(_("family codes"), default=list)
    colour = models.CharField(_("colour"), max_length=7, default="#6b7280")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="bloc_unique")]

    def __str__(self) -> str:
        return self.name


class PriorityRanking(models.Model):
    """A saved ranking of polling stations; canvassing cuts turfs from it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rankings")
    name = models.CharField(_("name"), max_length=100)
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="+")
    # Either a family code ("UG") or a bloc's name, as chosen on the page.
    family = models.CharField(_("family or bloc"), max_length=60)
    mobilisation_weight = models.FloatField(_("mobilisation weight (α)"), default=1.0)
    persuasion_weight = models.FloatField(_("persuasion weight (β)"), default=1.0)
    per_dwelling = models.BooleanField(_("divide by dwellings"), default=True)
    scores = models.JSONField(default=list)  # [{station, score, mobilisation, persuasion}], best first
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
