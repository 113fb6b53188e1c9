"""What the bench's fills share: the report of a fill, emptying and re-analysing a group of tables, and the
line that says how the fill went. The companies (run.py), sales, finance and access fills each use them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FillReport:
    """A fill skipped (the database already held the expected rows) or done, with its seconds by phase."""

    skipped: bool
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def truncate(cursor: Any, models: Iterable[Any]) -> None:
    """Empty the tables of ``models`` (and restart their ids) before a COPY fill."""
    tables = ", ".join(f'"{m._meta.db_table}"' for m in models)
    cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def vacuum_analyze(models: Iterable[Any]) -> None:
    """Fresh statistics and visibility map: without them COUNT(*) reads the heap (60 ms instead of 7 ms)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f'VACUUM ANALYZE "{model._meta.db_table}"')


def print_fill_time(label: str, report: FillReport, verdict: str = "") -> None:
    """«Sales fill: 121.7 s (generate … 18.9 s, copy … 42.6 s, …)», or that it was skipped."""
    if report.skipped:
        print(f"{label}: skipped, the database already holds the expected rows (--refill to redo it)")
        return
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items())
    print(f"{label}: {report.seconds:.1f} s ({phases}){verdict}")
