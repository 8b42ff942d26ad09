"""The plain objects a run returns, and their JSON form (whose keys scripts rely on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CacheUse:
    """What ``--cache`` did for one run (see :mod:`seedkit.cache`)."""

    key: str
    hit: bool  # the data was cloned from a template, not generated
    template: str | None = None  # the template's database or file
    kept: bool = False  # a template was kept after seeding
    note: str | None = None  # why none was kept
    sessions_ended: int = 0  # other sessions on the target that the swap ended (--yes)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RunReport:
    """What one ``run`` or ``reset`` did; the CLI renders it, scripts read ``to_json()``."""

    recipe: str
    seed: int
    scale: float
    target: str  # masked URL
    tables: dict[str, int] = field(default_factory=dict)  # rows created per table
    planned: dict[str, int] = field(default_factory=dict)  # rows each step made (its tables hold them all)
    paths: dict[str, str] = field(default_factory=dict)  # writer each table took
    orm_reasons: dict[str, str] = field(default_factory=dict)  # step -> why factory-boy built its rows
    nondeterministic: dict[str, list[str]] = field(default_factory=dict)  # step -> columns that differ per run
    read_back: dict[str, str] = field(default_factory=dict)  # table -> why its fingerprint read what it holds
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds of the run's own thread
    seconds: float = 0.0
    status: str = "seeded"  # or "skipped" (--if-empty found data)
    existing: dict[str, int] = field(default_factory=dict)  # rows found, when skipped
    fingerprint: str | None = None
    previous_fingerprint: str | None = None  # differing fingerprint of an identical earlier run
    revision: str | None = None
    now: str = ""
    workers: int = 1  # the most processes a step's rows were generated in (or the cluster's workers)
    executor: str | None = None  # the package of the executor that generated them ("distributed"), if any
    cache: CacheUse | None = None  # what --cache did (None: not asked for)

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe,
            "seed": self.seed,
            "scale": self.scale,
            "target": self.target,
            "status": self.status,
            "tables": dict(self.tables),
            "planned": dict(self.planned),
            "paths": dict(self.paths),
            "orm_reasons": dict(self.orm_reasons),
            "nondeterministic": dict(self.nondeterministic),
            "read_back": dict(self.read_back),
            "timings": dict(self.timings),
            "total_rows": self.total_rows,
            "seconds": round(self.seconds, 3),
            "fingerprint": self.fingerprint,
            "previous_fingerprint": self.previous_fingerprint,
            "existing": dict(self.existing),
            "revision": self.revision,
            "now": self.now,
            "workers": self.workers,
            "executor": self.executor,
            "cache": self.cache.to_json() if self.cache else None,
        }


@dataclass(frozen=True)
class PlannedStep:
    name: str
    table: str
    size: str  # "50", or "0-5 per users"
    expected: float  # expected row count at this scale
    depends_on: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    recipe: str
    scale: float
    steps: tuple[PlannedStep, ...]

    @property
    def expected_rows(self) -> float:
        return sum(s.expected for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe,
            "scale": self.scale,
            "steps": [
                {
                    "name": s.name,
                    "table": s.table,
                    "size": s.size,
                    "expected": s.expected,
                    "depends_on": list(s.depends_on),
                }
                for s in self.steps
            ],
            "expected_rows": self.expected_rows,
        }


@dataclass(frozen=True)
class RunRecord:
    """One row of ``seedkit_runs``: what a successful run wrote and when."""

    recipe: str
    seed: int
    scale: float
    seedkit_version: str
    faker_version: str
    fingerprint: str
    rows: int
    started_at: str
    finished_at: str
    from_empty: bool | None = None  # None: recorded by a seedkit that did not say
    from_cache: bool | None = None  # cloned from a template instead of generated
    fingerprint_format: int | None = None  # None: format 1, recorded before formats were

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Status:
    target: str
    revision: str | None
    head: str | None  # where the migrations end (None: no Alembic configuration found)
    tables: dict[str, int]
    last_run: RunRecord | None
    fingerprint: str  # of what the database holds now
    fingerprint_format: int  # of that fingerprint (seedkit.fingerprints.FORMAT)

    @property
    def unchanged_since_last_run(self) -> bool | None:
        """Whether the data is still exactly what the last run left (None: no run recorded, or
        its fingerprint is of another format than this seedkit computes)."""
        if self.last_run is None or (self.last_run.fingerprint_format or 1) != self.fingerprint_format:
            return None
        return self.last_run.fingerprint == self.fingerprint

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "revision": self.revision,
            "head": self.head,
            "tables": dict(self.tables),
            "last_run": self.last_run.to_json() if self.last_run else None,
            "fingerprint": self.fingerprint,
            "fingerprint_format": self.fingerprint_format,
            "unchanged_since_last_run": self.unchanged_since_last_run,
        }
