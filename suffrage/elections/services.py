"""Writes on elections data: saved rankings and blocs (results arrive by import)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db import transaction

from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User
from suffrage.elections.models import Bloc, PriorityRanking, Round
from suffrage.elections.scoring import StationScore


@transaction.atomic
def ranking_save(
    *,
    campaign: Campaign,
    name: str,
    round_: Round,
    family: str,
    weights: dict[str, Any],
    scores: list[StationScore],
    actor: User,
) -> PriorityRanking:
    ranking = PriorityRanking.objects.create(
        campaign=campaign,
        name=name,
        round=round_,
        family=family,
        mobilisation_weight=weights["mobilisation_weight"],
        persuasion_weight=weights["persuasion_weight"],
        per_dwelling=weights["per_dwelling"],
        scores=[asdict(score) for score in scores],
    )
    audit_record(
        action="ranking.save", campaign=campaign, obj=ranking, changes={"stations": [None, len(scores)]}, actor=actor
    )
    return ranking


@transaction.atomic
def bloc_save(*, campaign: Campaign, name: str, nuances: list[str], colour: str, actor: User) -> Bloc:
    codes = sorted({code.strip().upper() for code in nuances if code.strip()})
    bloc, _created = Bloc.objects.update_or_create(
        campaign=campaign, name=name, defaults={"nuances": codes, "colour": colour}
    )
    audit_record(action="bloc.save", campaign=campaign, obj=bloc, changes={"nuances": [None, codes]}, actor=actor)
    return bloc


@transaction.atomic
def bloc_remove(*, bloc: Bloc, actor: User) -> None:
    audit_record(
        action="bloc.remove", campaign=bloc.campaign, obj=bloc, changes={"nuances": [bloc.nuances, None]}, actor=actor
    )
    bloc.delete()
