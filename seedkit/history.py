"""``seedkit_runs``: the table where each successful run records itself.

It is seedkit's own table, created on first use and written in the run's transaction, so it
only ever describes data that was actually committed.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Float, Integer, MetaData, String, Table, inspect, select

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
)


def record(conn: Connection, entry: RunRecord) -> None:
    runs.create(conn, checkfirst=True)
    conn.execute(runs.insert().values(**entry.to_json()))


def _latest(conn: Connection, *conditions) -> RunRecord | None:
    if not inspect(conn).has_table("seedkit_runs"):
        return None
    query = select(*(runs.c[k] for k in RunRecord.__dataclass_fields__)).where(*conditions)
    row = conn.execute(query.order_by(runs.c.id.desc()).limit(1)).first()
    return RunRecord(**row._mapping) if row is not None else None


def last_run(conn: Connection) -> RunRecord | None:
    return _latest(conn)


def last_identical(conn: Connection, recipe: str, seed: int, scale: float) -> RunRecord | None:
    """The latest run of the same recipe, seed and scale, whose fingerprint ours should match."""
    return _latest(conn, runs.c.recipe == recipe, runs.c.seed == seed, runs.c.scale == scale)
