"""The fingerprint renders every common column type identically on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    create_engine,
)

import seedkit

metadata = MetaData()
samples = Table(
    "samples",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("flag", Boolean),
    Column("amount", Numeric(10, 2)),
    Column("ratio", Float),
    Column("label", String(50)),
    Column("body", Text),
    Column("at", DateTime),
    Column("day", Date),
    Column("doc", JSON),
    Column("token", Uuid),
    Column("blob", LargeBinary),
)
no_pk = Table("no_pk", metadata, Column("name", String(20)), Column("n", Integer))

ROWS = [
    {
        "id": 1,
        "flag": True,
        "amount": Decimal("100.00"),
        "ratio": 0.1,
        "label": 'quote " tab \t newline \n',
        "body": "naïve café ☕",
        "at": dt.datetime(2025, 1, 2, 3, 4, 5),
        "day": dt.date(2024, 2, 29),
        "doc": {"zeta": 1, "a": [1, {"bb": None, "c": "x"}], "mid": True},
        "token": uuid.UUID(int=12345),
        "blob": b"\x00\xff",
    },
    {"id": 2, "flag": False, "amount": Decimal("0.10"), "ratio": 2.0, "at": dt.datetime(2025, 1, 2, 3, 4, 5, 60)},
    {"id": 3},
]


def _load(url: str) -> seedkit.Settings:
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(samples.insert(), [{**{c.name: None for c in samples.columns}, **row} for row in ROWS])
        conn.execute(no_pk.insert(), [{"name": "b", "n": 2}, {"name": "B", "n": 1}, {"name": "a", "n": 3}])
    engine.dispose()
    return seedkit.load_settings(database_url=url)


def test_same_rows_same_fingerprint_on_both_backends(sqlite_url, pg_url):
    on_sqlite = seedkit.fingerprint(_load(sqlite_url))
    on_postgres = seedkit.fingerprint(_load(pg_url))
    assert on_sqlite.tables["samples"].rows == 3
    assert on_sqlite.to_json() == on_postgres.to_json()


def test_any_change_changes_the_hash(sqlite_url):
    settings = _load(sqlite_url)
    before = seedkit.fingerprint(settings)
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(samples.update().where(samples.c.id == 2).values(amount=Decimal("0.11")))
    engine.dispose()
    after = seedkit.fingerprint(settings)
    assert after.tables["samples"].hash != before.tables["samples"].hash
    assert after.tables["no_pk"] == before.tables["no_pk"]
    assert after.overall != before.overall


def test_hashing_leaves_the_callers_work_mem_alone(pg_url):
    from seedkit.backends.postgresql import SORT_MEMORY_KB
    from seedkit.fingerprints import fingerprint

    _load(pg_url)
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL work_mem = '2MB'")
        fingerprint(conn)
        assert conn.exec_driver_sql("SHOW work_mem").scalar() == "2MB"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{SORT_MEMORY_KB * 2}kB'")
        fingerprint(conn)
        assert conn.exec_driver_sql("SHOW work_mem").scalar() == "128MB"
    engine.dispose()


def test_remembered_renderings_match_fresh_ones():
    from seedkit.fingerprints import PYTHON

    numeric, as_json = PYTHON["numeric"], PYTHON["json"]
    assert [numeric(v) for v in (Decimal("2.50"), 2.5, Decimal("2.5"), 100, 100.0, -0.0)] == [
        "2.5",
        "2.5",
        "2.5",
        "100",
        "100",
        "0",
    ]
    # Text from SQLite is remembered; a decoded document (unhashable) is rendered each time.
    assert as_json('{"bb": 1, "a": [1]}') == as_json({"bb": 1, "a": [1]}) == '{"a": [1], "bb": 1}'
    # As COPY would send it: a backslash in the text is doubled.
    assert as_json({"k": "a\\b\n"}) == '{"k": "a\\\\\\\\b\\\\n"}'
