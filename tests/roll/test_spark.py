"""The same model links the same small data on DuckDB and on Spark (local mode).
National rolls run on Spark; this keeps the two backends honest. About a minute."""

import pytest

from suffrage.roll import matching
from suffrage.roll.prepare import BirthDate, birth_date, prepared
from suffrage.roll.synthetic import RollStation, noisy_signups, synthetic_roll

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

STATIONS = [
    RollStation("29019_0001", "0001", "École 1", "29019", "Brest", "29200", ("Rue de Siam", "Rue de Lyon")),
    RollStation("29019_0002", "0002", "École 2", "29019", "Brest", "29200", ("Avenue Foch", "Quai Tourville")),
]


def roll_record(row):
    return prepared(
        unique_id=f"e{row['NoElecteurGeneral']}",
        first_names=row["Prenoms"],
        birth_name=row["NomdeNaissance"],
        usage_name=row["NomDusage"],
        born=birth_date(row["DateDeNaissance"]),
        number=row["NumeroVoie"],
        street=f"{row['TypeVoie']} {row['LibelleVoie']}",
        postcode=row["CodePostal"],
        commune=row["VilleLocalite"],
        identifier=row["NoElecteurGeneral"],
    )


def signup_record(index, values):
    return prepared(
        unique_id=f"p{index}",
        first_names=values["first_names"],
        birth_name="",
        usage_name=values["last_name"],
        born=birth_date(values["birth_date"]) if values["birth_date"] else BirthDate(),
        number=values["number"],
        street=values["street"],
        postcode=values["postcode"],
        commune=values["town"],
    )


def links(pairs):
    kept, _conflicts = matching.best_pairs(pairs)
    return {(p.roll_id, p.person_id): p.probability for p in kept if p.probability >= 0.5}


def test_duckdb_and_spark_give_the_same_links(tmp_path):
    rows = list(synthetic_roll(400, STATIONS, seed=5))
    roll = [roll_record(row) for row in rows]
    people = [signup_record(i, s.values) for i, s in enumerate(noisy_signups(rows, 80, seed=6))]
    model = matching.train(matching.DuckDBBackend(), roll, people, u_pairs=50_000)
    on_duckdb = links(matching.predict(matching.DuckDBBackend(), model, roll, people, threshold=0.01))
    spark = matching.SparkBackend(master="local[1]", checkpoint_dir=str(tmp_path / "checkpoints"))
    on_spark = links(matching.predict(spark, model, roll, people, threshold=0.01))
    assert len(on_duckdb) >= 40
    assert on_spark.keys() == on_duckdb.keys()
    for pair, probability in on_duckdb.items():
        assert on_spark[pair] == pytest.approx(probability, abs=1e-6)
