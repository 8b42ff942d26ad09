"""``seedkit_runs``: the table where each successful run records itself.

It is seedkit's own table, created on first use and written in the run's transaction, so it
only ever describes data that was actually committed.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Connection, Float, Integer, MetaData, String, Table, inspect, null, select, text

from seedkit.fingerprints import FORMAT
from seedkit.report import RunRecord

_metadata = MetaData()
runs = Table(
    "seedkit_runs",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("recipe", String(200), nullable=False),
    Column("seed", Integer, nullable=False),
    Column("scale", Float, nullable=False),
    Column("seedkit_version", String(50), nullable=False),
    Column("faker_version", String(50), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=False),
    # Whether the run seeded empty tables (not --append): only such runs are compared for drift.
    Column("from_empty", Boolean),
    # Whether the run's data was cloned from a template (seedkit.cache) rather than generated.
    Column("from_cache", Boolean),
    # The fingerprint's format (seedkit.fingerprints.FORMAT); NULL: format 1, before it was recorded.
    Column("fingerprint_format", Integer),
)
# Added after the first release (NULL in older rows), with their types.
_LATER_COLUMNS = {"from_empty": "BOOLEAN", "from_cache": "BOOLEAN", "fingerprint_format": "INTEGER"}


def _prepare(conn: Connection) -> None:
    runs.create(conn, checkfirst=True)
    present = _columns(conn)
    for name, kind in _LATER_COLUMNS.items():
        if name not in present:
            conn.execute(text(f"ALTER TABLE seedkit_runs ADD COLUMN {name} {kind}"))


def record(conn: Connection, entry: RunRecord) -> None:
    _prepare(conn)
    conn.execute(runs.insert().values(**entry.to_json()))


def records(conn: Connection) -> list[RunRecord]:
    """Every run recorded here, oldest first."""
    present = _columns(conn)
    if not present:
        return []
    return [RunRecord(**row._mapping) for row in conn.execute(_selected(present).order_by(runs.c.id))]


def rewrite(conn: Connection, entries: list[RunRecord]) -> None:
    """Make ``entries`` the whole history (a database cloned from a template takes over the
    history of the one it replaces, not the template's)."""
    _prepare(conn)
    conn.execute(runs.delete())
    if entries:
        conn.execute(runs.insert(), [entry.to_json() for entry in entries])


def _columns(conn: Connection) -> set[str]:
    """The columns ``seedkit_runs`` has here (none: no run recorded yet)."""
    inspector = inspect(conn)
    if not inspector.has_table("seedkit_runs"):
        return set()
    return {c["name"] for c in inspector.get_columns("seedkit_runs")}


def _selected(present: set[str]):
    """Every field of a run; a table an earlier seedkit made lacks the later columns: NULL."""
    return select(*(runs.c[k] if k in present else null().label(k) for k in RunRecord.__dataclass_fields__))


def _latest(conn: Connection, present: set[str], *conditions) -> RunRecord | None:
    row = conn.execute(_selected(present).where(*conditions).order_by(runs.c.id.desc()).limit(1)).first()
    return RunRecord(**row._mapping) if row is not None else None


def last_run(conn: Connection) -> RunRecord | None:
    present = _columns(conn)
    return _latest(conn, present) if present else None


def last_identical(conn: Connection, recipe: str, seed: int, scale: float) -> RunRecord | None:
    """The latest run of the same recipe, seed and scale into empty tables, whose fingerprint (of
    this format) a run into empty tables should match (an ``--append`` run's fingerprint includes older rows)."""
    present = _columns(conn)
    if not {"from_empty", "fingerprint_format"} <= present:
        return None  # recorded before either existed: no run to compare with
    same = (runs.c.recipe == recipe, runs.c.seed == seed, runs.c.scale == scale, runs.c.from_empty.is_(True))
    return _latest(conn, present, *same, runs.c.fingerprint_format == FORMAT)
