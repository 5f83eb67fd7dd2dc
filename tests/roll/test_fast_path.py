"""The one-person fast path scores exactly as Splink does: the same candidate pairs
and the same probabilities as Splink's own `predict_between` on the same index."""

import pytest

from suffrage.roll import matching
from suffrage.roll.synthetic import noisy_signups, synthetic_roll
from tests.roll.test_spark import STATIONS, roll_record, signup_record


def splink_between(path, model, person):
    """Splink's incremental linkage, as the reference."""
    import duckdb
    from splink import DuckDBAPI, Linker

    connection = duckdb.connect()
    connection.execute("ATTACH ? AS roll_index (READ_ONLY)", [str(path)])
    for table in ("roll_prepared", "tf_first_name", "tf_surname"):
        connection.execute(f"CREATE VIEW {table} AS SELECT * FROM roll_index.{table}")  # noqa: S608
    db_api = DuckDBAPI(connection=connection)
    roll = db_api.register("roll_prepared", dataset_display_name="roll")
    new = db_api.register(matching.arrow_table([person]), dataset_display_name="new")
    linker = Linker(
        [roll, db_api.register(matching.arrow_table([]), dataset_display_name="people")], model.settings, log_level=None
    )
    for column in ("first_name", "surname"):
        lookup = db_api.register(f"tf_{column}", dataset_display_name=f"tf_lookup_{column}")
        linker.table_management.register_term_frequency_lookup(lookup, column)
    rows = linker.inference.predict_between(roll, new).as_duckdbpyrelation().to_arrow_table().to_pylist()
    connection.close()
    return {row["unique_id_l"] if row["source_dataset_l"] == "roll" else row["unique_id_r"]: row for row in rows}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    rows = list(synthetic_roll(1500, STATIONS, seed=21))
    roll = [roll_record(row) for row in rows]
    people = [signup_record(i, s.values) for i, s in enumerate(noisy_signups(rows, 40, seed=22))]
    model = matching.train(matching.DuckDBBackend(), roll, people, u_pairs=100_000)
    path = tmp_path_factory.mktemp("index") / "roll.duckdb"
    matching.RollIndex.build(path, roll)
    return path, model, people


def test_the_fast_path_scores_like_splink(indexed):
    path, model, people = indexed
    index = matching.RollIndex(path, model)
    compared = 0
    for person in people:
        ours = {pair.roll_id: pair for pair in index.match(person, threshold=0.0)}
        reference = splink_between(path, model, person)
        assert ours.keys() == reference.keys()
        for roll_id, row in reference.items():
            assert ours[roll_id].probability == pytest.approx(row["match_probability"], rel=1e-9, abs=1e-12)
            assert ours[roll_id].weight == pytest.approx(row["match_weight"], abs=1e-9)
            compared += 1
    assert compared >= 40
    index.close()


def test_the_fast_path_keeps_pairs_above_the_threshold(indexed):
    path, model, people = indexed
    index = matching.RollIndex(path, model)
    pairs = index.match(people[0], threshold=0.5)
    assert all(pair.probability >= 0.5 for pair in pairs)
    assert pairs == sorted(pairs, key=lambda p: -p.weight)
    index.close()
