"""Priority of polling stations for field work (DOMAIN.md §4).

Per polling station b, with I registered, V voters, E valid votes, S votes for
the chosen family or bloc, s = S / E and H dwellings:

    mobilisation reservoir  M = (I − V) · s
    persuasion potential    P = E · 4s(1 − s)
    priority                (α·M + β·P) / H     (or without / H)

M counts likely supporters who stayed home; P peaks where the family is near
half the vote. No published formula exists: this one is shown beside the
ranking and the weights are the user's.
"""

from __future__ import annotations

from dataclasses import dataclass

FORMULA = "priority = (α·(I − V)·s + β·E·4s(1 − s)) / H,  s = S / E"


@dataclass(frozen=True)
class StationFigures:
    station: str
    registered: int
    voters: int
    valid: int
    family_votes: int
    dwellings: int | None


@dataclass(frozen=True)
class StationScore:
    station: str
    share: float
    mobilisation: float
    persuasion: float
    score: float


def station_score(
    figures: StationFigures, *, mobilisation_weight: float, persuasion_weight: float, per_dwelling: bool
) -> StationScore:
    share = figures.family_votes / figures.valid if figures.valid else 0.0
    mobilisation = max(figures.registered - figures.voters, 0) * share
    persuasion = figures.valid * 4 * share * (1 - share)
    score = mobilisation_weight * mobilisation + persuasion_weight * persuasion
    if per_dwelling:
        # Without a dwelling count, registered electors stand in for homes.
        score /= figures.dwellings or figures.registered or 1
    return StationScore(figures.station, share, mobilisation, persuasion, score)


def rank_stations(
    stations: list[StationFigures],
    *,
    mobilisation_weight: float = 1.0,
    persuasion_weight: float = 1.0,
    per_dwelling: bool = True,
) -> list[StationScore]:
    """Scores, best first (ties broken by station code, so the order is stable)."""
    scores = [
        station_score(
            f, mobilisation_weight=mobilisation_weight, persuasion_weight=persuasion_weight, per_dwelling=per_dwelling
        )
        for f in stations
    ]
    return sorted(scores, key=lambda s: (-s.score, s.station))
