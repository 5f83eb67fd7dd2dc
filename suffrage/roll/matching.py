"""Probabilistic matching of the campaign's people to roll entries, with Splink 5.

The same settings run on DuckDB (the default: one machine, a city or a
constituency) and on Spark (national rolls, `ROLL_MATCH_BACKEND=spark`). This
module knows Splink; it knows nothing of Django models: it takes prepared records
(`prepare.prepared`) and gives scored pairs.

The model (`french_settings`) compares:
- first name: exact (with term frequencies: "Marie" says less than "Gwenola"),
  close spelling, any of the given names in common ("Jean" in "JEAN-PIERRE"), far;
- surname: exact, the person's name against the entry's other name (usage name
  of a married person against birth name and back), close spelling, far;
- birth date: exact, day and month swapped, one digit off, partial date with the
  same year, same year;
- address: same house, same street, same postcode or commune.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

PREPARED_SCHEMA = pa.schema(
    [
        ("unique_id", pa.string()),
        ("first_name", pa.string()),
        ("given_names", pa.list_(pa.string())),
        ("surname", pa.string()),
        ("other_surname", pa.string()),
        ("birth_date", pa.string()),
        ("birth_year", pa.int32()),
        ("birth_month", pa.int32()),
        ("birth_day", pa.int32()),
        ("street", pa.string()),
        ("house", pa.string()),
        ("postcode", pa.string()),
        ("commune", pa.string()),
        # An identifier both sides may carry: the national elector number ("numéro
        # national d'électeur", on the voter card) when a person gave it.
        ("identifier", pa.string()),
    ]
)
TF_COLUMNS = ("first_name", "surname")

# Rules that are almost certainly the same person: they estimate how likely two
# random records are to match, before any training.
DETERMINISTIC_RULES = [
    "l.surname = r.surname and l.first_name = r.first_name and l.birth_date = r.birth_date",
    "l.first_name = r.first_name and l.birth_date = r.birth_date and l.house = r.house",
]


def french_blocking_rules() -> list[str]:
    """Candidate pairs. Each rule is an equi-join (fast on both backends) and together
    they survive one kind of noise each: a typo in the surname, a usage name, a
    missing or swapped birth date, a move."""
    return [
        "l.identifier = r.identifier",
        "l.birth_date = r.birth_date",
        "l.house = r.house",
        "l.surname = r.surname and l.birth_year = r.birth_year",
        "l.surname = r.surname and l.street = r.street",
        "l.first_name = r.first_name and l.street = r.street",
        "l.surname = r.other_surname and l.first_name = r.first_name",
        "l.other_surname = r.surname and l.first_name = r.first_name",
        "l.surname = r.surname and l.first_name = r.first_name",
        "l.first_name = r.surname and l.surname = r.first_name",
    ]


def french_settings(dialect: str) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator
    from splink.internals.dialects import SplinkDialect

    jw = SplinkDialect.from_string(dialect).jaro_winkler_function_name

    def either_null(*columns: str) -> str:
        return " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)

    def crossed(template: str) -> str:
        pairs = [("surname", "other_surname"), ("other_surname", "surname"), ("other_surname", "other_surname")]
        return " OR ".join(template.format(left=f"{a}_l", right=f"{b}_r") for a, b in pairs)

    first_name = cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name").configure(tf_adjustment_column="first_name", label_for_charts="same"),
            cll.JaroWinklerLevel("first_name", 0.92).configure(label_for_charts="close spelling"),
            cll.ArrayIntersectLevel("given_names", 1).configure(label_for_charts="a given name in common"),
            cll.CustomLevel("first_name_l = surname_r OR surname_l = first_name_r", "swapped with the surname"),
            cll.JaroWinklerLevel("first_name", 0.8).configure(label_for_charts="similar"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    surname = cl.CustomComparison(
        output_column_name="surname",
        comparison_levels=[
            cll.CustomLevel("surname_l IS NULL OR surname_r IS NULL", "null").configure(is_null_level=True),
            cll.ExactMatchLevel("surname").configure(tf_adjustment_column="surname", label_for_charts="same"),
            cll.CustomLevel(crossed("{left} = {right}"), "same as the other name (birth or usage)"),
            cll.JaroWinklerLevel("surname", 0.92).configure(label_for_charts="close spelling"),
            cll.CustomLevel(crossed(f"{jw}({{left}}, {{right}}) >= 0.92"), "close to the other name"),
            cll.CustomLevel("first_name_l = surname_r OR surname_l = first_name_r", "swapped with the first name"),
            cll.JaroWinklerLevel("surname", 0.8).configure(label_for_charts="similar"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    birth_date = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.CustomLevel(either_null("birth_year"), "null").configure(is_null_level=True),
            cll.ExactMatchLevel("birth_date").configure(label_for_charts="same"),
            cll.CustomLevel(
                "birth_year_l = birth_year_r AND birth_month_l = birth_day_r AND birth_day_l = birth_month_r",
                "day and month swapped",
            ),
            cll.LevenshteinLevel("birth_date", 1).configure(label_for_charts="one digit off"),
            cll.CustomLevel(
                f"birth_year_l = birth_year_r AND ({either_null('birth_month')})", "same year, date partial"
            ),
            cll.CustomLevel("birth_year_l = birth_year_r", "same year"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.CustomLevel(
                f"({either_null('postcode')}) AND ({either_null('commune')}) AND ({either_null('street')})", "null"
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("house").configure(label_for_charts="same house"),
            cll.ExactMatchLevel("street").configure(label_for_charts="same street"),
            cll.CustomLevel("postcode_l = postcode_r OR commune_l = commune_r", "same postcode or commune"),
            cll.ElseLevel().configure(label_for_charts="elsewhere"),
        ],
    )
    identifier = cl.CustomComparison(
        output_column_name="identifier",
        comparison_levels=[
            cll.NullLevel("identifier"),
            cll.ExactMatchLevel("identifier").configure(label_for_charts="same"),
            cll.DamerauLevenshteinLevel("identifier", 1).configure(label_for_charts="one character off"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[first_name, surname, birth_date, address, identifier],
        blocking_rules_to_generate_predictions=list[Any](french_blocking_rules()),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
        max_iterations=20,
    )


# --- Backends -------------------------------------------------------------------


class Backend:
    """Where Splink runs: DuckDB in process (default), or Spark."""

    dialect = "duckdb"

    def db_api(self) -> Any:
        raise NotImplementedError

    def table(self, db_api: Any, rows: Sequence[dict[str, object]], name: str) -> Any:
        raise NotImplementedError

    def rows(self, splink_frame: Any) -> list[dict[str, Any]]:
        raise NotImplementedError


@dataclass
class DuckDBBackend(Backend):
    path: str = ":memory:"
    memory_limit: str = ""
    threads: int = 0
    dialect = "duckdb"

    def db_api(self) -> Any:
        import duckdb
        from splink import DuckDBAPI

        connection = duckdb.connect(self.path)
        if self.memory_limit:
            connection.execute(f"SET memory_limit = '{self.memory_limit}'")
        if self.threads:
            connection.execute(f"SET threads = {int(self.threads)}")
        return DuckDBAPI(connection=connection)

    def table(self, db_api: Any, rows: Sequence[dict[str, object]], name: str) -> Any:
        return db_api.register(arrow_table(rows), dataset_display_name=name)

    def rows(self, splink_frame: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = splink_frame.as_duckdbpyrelation().to_arrow_table().to_pylist()
        return result


@dataclass
class SparkBackend(Backend):
    master: str = "local[2]"
    checkpoint_dir: str = ""
    dialect = "spark"
    _lock = threading.Lock()

    def session(self) -> Any:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location

        with self._lock:
            builder = (
                SparkSession.builder.master(self.master)
                .appName("suffrage-roll")
                .config("spark.jars", similarity_jar_location())
                .config("spark.sql.shuffle.partitions", "8")
                .config("spark.default.parallelism", "8")
                .config("spark.ui.enabled", "false")
            )
            spark = builder.getOrCreate()
            if self.checkpoint_dir:
                Path(self.checkpoint_dir).mkdir(parents=True, exist_ok=True)
                spark.sparkContext.setCheckpointDir(self.checkpoint_dir)
            return spark

    def db_api(self) -> Any:
        from splink import SparkAPI

        return SparkAPI(spark_session=self.session())

    def table(self, db_api: Any, rows: Sequence[dict[str, object]], name: str) -> Any:
        from pyspark.sql import types as T

        fields = []
        for column in PREPARED_SCHEMA:
            if pa.types.is_list(column.type):
                kind: Any = T.ArrayType(T.StringType())
            elif pa.types.is_integer(column.type):
                kind = T.IntegerType()
            else:
                kind = T.StringType()
            fields.append(T.StructField(column.name, kind, True))
        names = PREPARED_SCHEMA.names
        frame = self.session().createDataFrame([tuple(row[n] for n in names) for row in rows], T.StructType(fields))
        return db_api.register(frame, dataset_display_name=name)

    def rows(self, splink_frame: Any) -> list[dict[str, Any]]:
        return [row.asDict() for row in splink_frame.as_spark_dataframe().collect()]


def arrow_table(rows: Sequence[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=PREPARED_SCHEMA)


# --- Training and prediction -----------------------------------------------------


@dataclass
class TrainingSummary:
    roll_records: int
    people_records: int
    u_pairs: int
    em_blocks: list[str]
    seconds: float = 0.0


@dataclass
class Model:
    """A trained model: Splink's settings with their parameters, as JSON."""

    settings: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)

    def level_labels(self) -> dict[str, dict[int, str]]:
        """Per compared field, the label of each comparison vector value."""
        labels: dict[str, dict[int, str]] = {}
        for comparison in self.settings["comparisons"]:
            levels = [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]
            values = {len(levels) - 1 - index: level["label_for_charts"] for index, level in enumerate(levels)}
            values[-1] = "missing"
            labels[comparison["output_column_name"]] = values
        return labels


def _linker(settings: Any, roll: Any, people: Any) -> Any:
    from splink import Linker

    return Linker([roll, people], settings, log_level=None)


def settings_for(model: Model, dialect: str) -> dict[str, Any]:
    """The trained model written in another backend's SQL: the same comparisons built
    for that dialect, with the trained prior and m and u probabilities copied level by
    level (a model trained on DuckDB predicts on Spark, and back)."""
    if model.settings.get("sql_dialect") == dialect:
        return model.settings
    fresh: dict[str, Any] = french_settings(dialect).create_settings_dict(dialect)
    fresh["probability_two_random_records_match"] = model.settings["probability_two_random_records_match"]
    trained = {c["output_column_name"]: c["comparison_levels"] for c in model.settings["comparisons"]}
    for comparison in fresh["comparisons"]:
        for level, learnt in zip(
            comparison["comparison_levels"], trained[comparison["output_column_name"]], strict=True
        ):
            for key in ("m_probability", "u_probability"):
                if key in learnt:
                    level[key] = learnt[key]
    return fresh


def train(
    backend: Backend,
    roll: Sequence[dict[str, object]],
    people: Sequence[dict[str, object]],
    *,
    settings: Any = None,
    u_pairs: int = 2_000_000,
    em_blocks: Sequence[str] = ("l.birth_date = r.birth_date", "l.surname = r.surname and l.first_name = r.first_name"),
    seed: int = 7,
) -> Model:
    """Estimate the prior, the u probabilities (random pairs) and the m probabilities
    (expectation maximisation, one session per block so each field is trained by a
    block that does not fix it)."""
    started = time.monotonic()
    db_api = backend.db_api()
    linker = _linker(
        settings or french_settings(backend.dialect),
        backend.table(db_api, roll, "roll"),
        backend.table(db_api, people, "people"),
    )
    linker.training.estimate_probability_two_random_records_match(DETERMINISTIC_RULES, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
    for block in em_blocks:
        linker.training.estimate_parameters_using_expectation_maximisation(block, fix_u_probabilities=True)
    summary = TrainingSummary(len(roll), len(people), u_pairs, list(em_blocks), round(time.monotonic() - started, 2))
    return Model(linker.misc.save_model_to_json(), summary.__dict__)


@dataclass(frozen=True)
class ScoredPair:
    roll_id: str
    person_id: str
    probability: float
    weight: float
    explanation: list[dict[str, Any]]


def _explain(model: Model, row: dict[str, Any]) -> list[dict[str, Any]]:
    """Per field: the level found and the weight (log2 Bayes factor) it added."""
    labels = model.level_labels()
    explained = []
    for name in labels:
        gamma = row.get(f"gamma_{name}")
        weight = (row.get(f"mw_{name}") or 0.0) + (row.get(f"mw_tf_adj_{name}") or 0.0)
        level = labels[name].get(int(gamma) if gamma is not None else -1, "")
        explained.append({"field": name, "level": level, "weight": round(weight, 2)})
    return explained


def _pairs(model: Model, rows: list[dict[str, Any]]) -> list[ScoredPair]:
    pairs = []
    for row in rows:
        left, right = row["unique_id_l"], row["unique_id_r"]
        roll_id, person_id = (left, right) if row.get("source_dataset_l") == "roll" else (right, left)
        pairs.append(
            ScoredPair(
                roll_id=roll_id,
                person_id=person_id,
                probability=float(row["match_probability"]),
                weight=float(row["match_weight"]),
                explanation=_explain(model, row),
            )
        )
    return pairs


def predict(
    backend: Backend,
    model: Model,
    roll: Sequence[dict[str, object]],
    people: Sequence[dict[str, object]],
    *,
    threshold: float,
) -> list[ScoredPair]:
    """Every candidate pair scoring at least `threshold`."""
    db_api = backend.db_api()
    settings = settings_for(model, backend.dialect)
    linker = _linker(settings, backend.table(db_api, roll, "roll"), backend.table(db_api, people, "people"))
    for column in TF_COLUMNS:
        linker.table_management.compute_tf_table(column)
    frame = linker.inference.predict(threshold_match_probability=threshold)
    return _pairs(model, backend.rows(frame))


def best_pairs(pairs: Sequence[ScoredPair]) -> tuple[list[ScoredPair], list[ScoredPair]]:
    """One entry per person and one person per entry, best first. Returns the pairs
    kept and the pairs that lost an entry to a better-scoring person (conflicts)."""
    kept: list[ScoredPair] = []
    conflicts: list[ScoredPair] = []
    people_done: set[str] = set()
    entries_taken: set[str] = set()
    for pair in sorted(pairs, key=lambda p: (-p.weight, p.person_id, p.roll_id)):
        if pair.person_id in people_done:
            continue
        if pair.roll_id in entries_taken:
            conflicts.append(pair)
            people_done.add(pair.person_id)
            continue
        kept.append(pair)
        people_done.add(pair.person_id)
        entries_taken.add(pair.roll_id)
    return kept, conflicts


# --- The one-person fast path ------------------------------------------------------


class RollIndex:
    """The prepared roll and the model, held open so one new person (a web signup) is
    matched on arrival without re-running the whole job.

    Splink's `predict_between` re-blocks the whole roll at every call (about a second
    on a million entries). Here the model's own SQL — its blocking rules and each
    comparison's CASE statement, taken from Splink's settings object — is compiled
    once into one DuckDB query over the indexed roll (term frequencies joined in
    advance), and the trained weights are added up in Python, exactly as Splink does:
    prior + level weights + term-frequency adjustments."""

    def __init__(self, path: Path, model: Model) -> None:
        import duckdb
        from splink import SettingsCreator

        self.model = model
        self.connection = duckdb.connect()
        self.connection.execute("ATTACH ? AS roll_index (READ_ONLY)", [str(path)])
        self.settings = SettingsCreator.from_path_or_dict(model.settings).get_settings("duckdb")
        self.comparisons = self.settings.comparisons
        self.sql = self._query()
        self.labels = model.level_labels()
        self.tf = {
            column: dict(self.connection.execute(f"SELECT * FROM roll_index.tf_{column}").fetchall())  # noqa: S608
            for column in TF_COLUMNS
        }
        self._lock = threading.Lock()

    def _query(self) -> str:
        columns = PREPARED_SCHEMA.names
        types = {"string": "VARCHAR", "int32": "INTEGER", "list<item: string>": "VARCHAR[]"}
        new = ", ".join(f"${c}::{types[str(PREPARED_SCHEMA.field(c).type)]} AS {c}" for c in columns)
        rules = " OR ".join(
            f"({rule.blocking_rule_sql})" for rule in self.settings._blocking_rules_to_generate_predictions
        )
        pairs = ", ".join(
            [*(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in columns), *(f"r.tf_{c} AS tf_{c}_r" for c in TF_COLUMNS)]
        )
        gammas = ", ".join(comparison._case_statement for comparison in self.comparisons)
        return (
            f"WITH l AS (SELECT {new}), "  # noqa: S608 (the model's own SQL; values are parameters)
            f"candidates AS (SELECT {pairs} FROM l, roll_index.roll_indexed AS r WHERE {rules}) "
            f"SELECT unique_id_r, {', '.join(f'tf_{c}_r' for c in TF_COLUMNS)}, {gammas} FROM candidates"
        )

    @staticmethod
    def build(path: Path, roll: Sequence[dict[str, object]]) -> None:
        """Write the prepared roll, its term frequencies, and the roll with them joined, to `path` (replaced)."""
        import duckdb

        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        connection = duckdb.connect(str(partial))
        try:
            connection.register("roll_input", arrow_table(roll))
            connection.execute("CREATE TABLE roll_prepared AS SELECT *, 'roll' AS source_dataset FROM roll_input")
            for column in TF_COLUMNS:  # constant column names, no user input
                connection.execute(
                    f"CREATE TABLE tf_{column} AS SELECT {column}, "  # noqa: S608
                    f"count(*)::DOUBLE / (SELECT count({column}) FROM roll_prepared) AS tf_{column} "
                    f"FROM roll_prepared WHERE {column} IS NOT NULL GROUP BY {column}"
                )
            joins = " ".join(f"LEFT JOIN tf_{c} USING ({c})" for c in TF_COLUMNS)
            connection.execute(f"CREATE TABLE roll_indexed AS SELECT * FROM roll_prepared {joins}")  # noqa: S608
        finally:
            connection.close()
        partial.replace(path)

    def _weight(self, comparison: Any, gamma: int, tf_l: float | None, tf_r: float | None) -> float:
        """The level's weight, with Splink's term-frequency adjustment for exact matches."""
        levels = comparison.comparison_levels
        level = next(level for level in levels if level.comparison_vector_value == gamma)
        weight = float(level._log2_bayes_factor)
        if gamma == -1 or not level._has_tf_adjustments or level._tf_adjustment_weight == 0 or level._is_else_level:
            return weight
        if tf_l is None and tf_r is None:
            return weight
        known = [value for value in (tf_l, tf_r) if value is not None]
        tf = max([*known, float(level._tf_minimum_u_value)])
        u_exact = float(level._u_probability_corresponding_to_exact_match(levels))
        return weight + float(level._tf_adjustment_weight) * (math.log2(u_exact) - math.log2(tf))

    def match(self, person: dict[str, object], *, threshold: float) -> list[ScoredPair]:
        with self._lock:  # one DuckDB connection: one query at a time
            rows = self.connection.execute(self.sql, {c: person.get(c) for c in PREPARED_SCHEMA.names}).fetchall()
        prior = self.settings._probability_two_random_records_match
        prior_weight = math.log2(prior / (1 - prior))
        pairs = []
        for unique_id, *values in rows:
            tf_r = dict(zip(TF_COLUMNS, values[: len(TF_COLUMNS)], strict=True))
            explanation, total = [], prior_weight
            for comparison, gamma in zip(self.comparisons, values[len(TF_COLUMNS) :], strict=True):
                name = comparison.output_column_name
                tf_l = self.tf[name].get(person.get(name)) if name in TF_COLUMNS else None
                weight = self._weight(comparison, gamma, tf_l, tf_r.get(name))
                total += weight
                level = self.labels[name].get(gamma, "")
                explanation.append({"field": name, "level": level, "weight": round(weight, 2)})
            probability = 2**total / (1 + 2**total)
            if probability >= threshold:
                pairs.append(ScoredPair(str(unique_id), str(person["unique_id"]), probability, total, explanation))
        return sorted(pairs, key=lambda p: -p.weight)

    def close(self) -> None:
        self.connection.close()
