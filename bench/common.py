"""What the benchmarks share: memory readings, percentiles, probes, the PostgreSQL
admin connection and the one-run-at-a-time lock."""

from __future__ import annotations

import fcntl
import hashlib
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

MB = 1024 * 1024


def peak_rss_mb() -> float:
    """Peak resident set size of this process since the last reset_peak_rss(), in MB."""
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value / (MB if sys.platform == "darwin" else 1024)


def current_rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (Linux >= 4.0). False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive") if len(samples) > 1 else [samples[0]] * 99
    return {
        "n": len(samples),
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
        "mean_ms": statistics.fmean(samples) * 1000,
        "max_ms": max(samples) * 1000,
    }


class PhaseTimer:
    """Wraps a function so the time spent in it (and the calls) are summed: a benchmark-side probe."""

    def __init__(self, owner: Any, name: str) -> None:
        self.owner, self.name, self.seconds, self.calls = owner, name, 0.0, 0
        self.original = getattr(owner, name, None)
        self.missing = self.original is None  # the code changed: nothing to probe (reported as such)
        if self.missing:
            print(f"  note: {getattr(owner, '__name__', owner)}.{name} not found, not timed", flush=True)
            return
        timer = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            timer.calls += 1
            try:
                return timer.original(*args, **kwargs)
            finally:
                timer.seconds += time.perf_counter() - started

        setattr(owner, name, timed)

    def restore(self) -> None:
        if not self.missing:
            setattr(self.owner, self.name, self.original)


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


def take_lock(path: Path) -> Any:
    """One run at a time: two runs would drop each other's databases (same names, same files)."""
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        print(f"Another run holds {path} ({handle.read().strip()}).", file=sys.stderr)
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    handle.flush()
    return handle


def child_env(*, data_dir: Path, database_url: str) -> dict[str, str]:
    """The environment of a benchmark's child process: production-like settings,
    inline tasks, local cache, its own data folder and database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="suffrage.settings",
        DEBUG="0",
        SECRET_KEY="bench",
        ALLOWED_HOSTS="testserver,127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        TASKS_BACKEND="immediate",
        CACHE="local",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
        DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
    )
    return env


class Report:
    """Prints and keeps the text, so that the file holds exactly what was printed."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.extend(text.split("\n"))


def code_snapshot(folder: Path) -> str:
    """A short digest of the Python code under `folder`: children that ran different code are spotted."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


class Table:
    """Rows for one table, written by COPY (PostgreSQL) or executemany (SQLite). The
    columns not given take their model default, converted once."""

    def __init__(self, model: Any, columns: list[str]) -> None:
        from django.db import connection

        fields = {field.column: field for field in model._meta.concrete_fields}
        missing = set(columns) - set(fields)
        if missing:
            raise RuntimeError(f"{model.__name__} has no column {', '.join(sorted(missing))}: the model changed")
        rest = [f for column, f in fields.items() if column not in columns and not f.primary_key]
        self.rest = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
        self.columns = [*columns, *(f.column for f in rest)]
        self.table = model._meta.db_table
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def add(self, *values: Any) -> None:
        self.rows.append(values)

    def flush(self) -> None:
        from django.db import connection

        if not self.rows:
            return
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {quote(self.table)} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row + self.rest)
            else:
                placeholders = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {quote(self.table)} ({columns}) VALUES ({placeholders})",  # noqa: S608 - names from the model
                    [row + self.rest for row in self.rows],
                )
        self.written += len(self.rows)
        self.rows = []
