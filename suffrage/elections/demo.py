"""Demo results: Brest's real 2024 legislative results (both rounds) and its
2014–2017 history, imported through the pipeline; blocs; a saved ranking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File

from suffrage.core.models import Campaign
from suffrage.core.roles import Role
from suffrage.elections.models import Election
from suffrage.elections.scoring import rank_stations
from suffrage.elections.services import bloc_save, ranking_save
from suffrage.imports.services import batch_create, batch_set_settings, import_run, import_start
from suffrage.territory.selectors import station_rows

DATA = Path(__file__).parent / "demo_data"
FILES = [
    ("legislatives-2024-t1-29-circ2-3.csv", "legislative", 2024, "Législatives 2024", 1, "2024-06-30"),
    ("legislatives-2024-t2-29-circ2-3.csv", "legislative", 2024, "Législatives 2024", 2, "2024-07-07"),
    ("history-2017-presidentielle-1-brest.csv", "presidential", 2017, "Présidentielle 2017", 1, "2017-04-23"),
    ("history-2017-presidentielle-2-brest.csv", "presidential", 2017, "Présidentielle 2017", 2, "2017-05-07"),
    ("history-2017-legislatives-1-brest.csv", "legislative", 2017, "Législatives 2017", 1, "2017-06-11"),
    ("history-2017-legislatives-2-brest.csv", "legislative", 2017, "Législatives 2017", 2, "2017-06-18"),
    ("history-2014-europeennes-brest.csv", "european", 2014, "Européennes 2014", 1, "2014-05-25"),
]
# A common reading of the Ministry's 2024 codes; campaigns edit their own.
BLOCS = {
    "Gauche": (["EXG", "COM", "FI", "SOC", "RDG", "VEC", "DVG", "UG", "ECO"], "#c0392b"),
    "Centre": (["REN", "MDM", "HOR", "ENS", "UDI", "DVC"], "#f1c40f"),
    "Droite": (["LR", "DVD", "DSV"], "#2e86c1"),
    "Extrême droite": (["RN", "REC", "UXD", "EXD"], "#34495e"),
}


def load(campaign: Campaign) -> None:
    if Election.objects.filter(name="Législatives 2024").exists():
        return
    owner = campaign.memberships.filter(role=Role.OWNER).select_related("user").first()
    actor: Any = owner.user if owner else None
    for name, kind, year, label, round_number, date in FILES:
        with (DATA / name).open("rb") as handle:
            batch = batch_create(campaign=campaign, upload=File(handle, name=name), actor=actor, kind="results")
        settings = {"kind": kind, "year": year, "name": label, "round": round_number, "date": date}
        batch_set_settings(batch=batch, settings=settings)
        import_run(job_id=import_start(batch=batch, actor=actor, dry_run=False).pk)
    for bloc, (codes, colour) in BLOCS.items():
        bloc_save(campaign=campaign, name=bloc, nuances=codes, colour=colour, actor=actor)
    first_round = Election.objects.get(name="Législatives 2024").rounds.get(number=1)
    rows = [row for row in station_rows(campaign, first_round, "Gauche") if row.code.startswith("29019_")]
    weights: dict[str, Any] = {"mobilisation_weight": 1.0, "persuasion_weight": 0.5, "per_dwelling": True}
    scores = rank_stations([row.figures() for row in rows], **weights)
    ranking_save(
        campaign=campaign,
        name="Porte-à-porte Brest — mobiliser la gauche",
        round_=first_round,
        family="Gauche",
        weights=weights,
        scores=scores,
        actor=actor,
    )
