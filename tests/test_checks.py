"""CHECK constraints read from their SQL, as each backend spells them, and PostgreSQL's own types:
a schema made by plain SQL is seeded without a row the database refuses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from seedkit.checks import allowed
from tests.conftest import cli, cli_json, fingerprint_of


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("score BETWEEN 1 AND 10", {"low": 1, "high": 10}),
        ("score >= 1 AND score <= 10", {"low": 1, "high": 10}),
        ("(score > 0)", {"low": 1}),
        ("0 < score", {"low": 1}),
        ("price < 9.95", {"high": Decimal("9.94")}),
        ("status IN ('new', 'active', 'it''s')", {"values": ("new", "active", "it's")}),
        (
            "(status)::text = ANY ((ARRAY['new'::character varying, 'gone'::character varying])::text[])",
            {"values": ("new", "gone")},
        ),
        ("length((status)::text) = 8", {"min_length": 8, "max_length": 8}),
        ("char_length(status) <= 5 AND status IS NOT NULL", {"max_length": 5}),
    ],
)
def test_shapes_are_read_on_both_spellings(sql, expected):
    column = "status" if "status" in sql else "price" if "price" in sql else "score"
    found = allowed([sql], column)
    assert not found.unparsed
    for key, value in expected.items():
        assert getattr(found, key) == value, key


@pytest.mark.parametrize("sql", ["score % 2 = 0", "score <> 3", "lower(status) = status", "score > 1 OR score < -1"])
def test_other_shapes_are_left_to_the_server(sql):
    assert allowed([sql], "score" if "score" in sql else "status").unparsed == (sql,)


SQLITE_SCHEMA = [
    """CREATE TABLE players (
        id INTEGER PRIMARY KEY,
        score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10),
        level VARCHAR(10) NOT NULL CHECK (level IN ('low', 'mid', 'high')),
        code VARCHAR(8) NOT NULL CHECK (length(code) = 8),
        even INTEGER NOT NULL CHECK (even % 2 = 0),
        ratio NUMERIC(5, 2) CHECK (ratio >= 0.5 AND ratio < 2))""",
]

PG_SCHEMA = [
    "CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh')",
    "CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0)",
    """CREATE TABLE people (
        id serial PRIMARY KEY, name text NOT NULL, mood mood NOT NULL, age positive_int NOT NULL,
        score integer NOT NULL CHECK (score BETWEEN 1 AND 10), tags text[] NOT NULL, points integer[],
        avatar bytea, ip inet NOT NULL, net cidr, mac macaddr, nap interval NOT NULL, wake time NOT NULL,
        status varchar(10) NOT NULL CHECK (status IN ('new', 'active', 'gone')),
        code varchar(8) NOT NULL CHECK (length(code) = 8), even integer NOT NULL CHECK (even % 2 = 0),
        label varchar(12) NOT NULL CHECK (label ~ '^[a-z]+$'), search tsvector)""",
    """CREATE FUNCTION people_search() RETURNS trigger AS $$
        BEGIN NEW.search := to_tsvector('simple', NEW.name); RETURN NEW; END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER people_search BEFORE INSERT ON people FOR EACH ROW EXECUTE FUNCTION people_search()",
    "CREATE VIEW happy_people AS SELECT * FROM people WHERE mood = 'happy'",
]


def _create(url: str, statements: list[str]) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:  # on the driver: a % in the SQL is no placeholder
            conn.connection.driver_connection.execute(statement)
    engine.dispose()


def _rows(url: str, sql: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text(sql)).all()
    engine.dispose()
    return found


def test_sqlite_checks_hold_for_every_row(sqlite_url, another_db, tmp_path):
    _create(sqlite_url, SQLITE_SCHEMA)
    report = cli_json("run", "--infer", "--no-migrate", "--rows", "150", "--database-url", sqlite_url)
    assert report["tables"] == {"players": 150}
    rows = _rows(sqlite_url, "SELECT score, level, code, even, ratio FROM players")
    assert all(1 <= r.score <= 10 and r.level in ("low", "mid", "high") and len(r.code) == 8 for r in rows)
    assert all(r.even % 2 == 0 for r in rows) and len({r.even for r in rows}) > 10
    assert all(r.ratio is None or 0.5 <= r.ratio < 2 for r in rows)


def test_postgresql_types_domains_enums_and_checks(pg_url, another_db, tmp_path):
    twin = another_db(pg_url)
    for url in (pg_url, twin):
        _create(url, PG_SCHEMA)
    report = cli_json("run", "--infer", "--no-migrate", "--rows", "120", "--seed", "3", "--database-url", pg_url)
    assert report["tables"] == {"people": 120}  # the view is left alone
    rows = _rows(pg_url, "SELECT * FROM people")
    assert {r.mood for r in rows} == {"happy", "sad", "meh"} and all(r.age > 0 for r in rows)
    assert all(len(r.tags) == 3 and all(isinstance(t, str) for t in r.tags) for r in rows)
    assert all(r.search is not None for r in rows)  # the trigger filled it
    assert all(r.label.isalpha() and r.label.islower() and r.even % 2 == 0 for r in rows)
    assert len({str(r.ip) for r in rows}) > 100 and all(r.nap is not None and r.wake is not None for r in rows)

    folder = tmp_path / "recipes"
    assert cli("scaffold", "--out", str(folder), "--rows", "120", "--database-url", pg_url).exit_code == 0
    scaffolded = cli_json(
        "run", "inferred", "--recipes", str(folder), "--no-migrate", "--seed", "3", "--database-url", twin
    )
    assert scaffolded["fingerprint"] == report["fingerprint"]
    assert fingerprint_of(twin) == fingerprint_of(pg_url)


def test_a_check_ordering_two_columns_draws_the_later_after_the_earlier(db_url, another_db, tmp_path):
    schema = [
        """CREATE TABLE bookings (id INTEGER PRIMARY KEY, starts_at TIMESTAMP NOT NULL, ends_at TIMESTAMP NOT NULL,
            low INTEGER NOT NULL, high INTEGER, CHECK (ends_at > starts_at), CHECK (low <= high))"""
    ]
    twin = another_db(db_url)
    for url in (db_url, twin):
        _create(url, schema)
    report = cli_json("run", "--infer", "--no-migrate", "--rows", "200", "--database-url", db_url)
    rows = _rows(db_url, "SELECT starts_at, ends_at, low, high FROM bookings")
    assert len(rows) == 200 and all(r.ends_at > r.starts_at and r.low <= r.high for r in rows)
    moment = lambda v: datetime.fromisoformat(v) if isinstance(v, str) else v  # noqa: E731 - SQLite gives text
    assert len({moment(r.ends_at) - moment(r.starts_at) for r in rows}) > 50  # the gap varies (seeded random)
    folder = tmp_path / "recipes"
    assert cli("scaffold", "--out", str(folder), "--rows", "200", "--database-url", db_url).exit_code == 0
    scaffolded = cli_json("run", "inferred", "--recipes", str(folder), "--no-migrate", "--database-url", twin)
    assert scaffolded["fingerprint"] == report["fingerprint"]


def test_a_check_across_columns_of_another_shape_is_met_by_values_tried_together(db_url, another_db, tmp_path):
    schema = [
        """CREATE TABLE budgets (id INTEGER PRIMARY KEY, food INTEGER NOT NULL CHECK (food >= 0),
            rent INTEGER NOT NULL, fun INTEGER NOT NULL, CHECK (food + rent < 500), CHECK (rent % 10 = fun % 10))"""
    ]
    twin = another_db(db_url)
    for url in (db_url, twin):
        _create(url, schema)
    report = cli_json("run", "--infer", "--no-migrate", "--rows", "120", "--database-url", db_url)
    rows = _rows(db_url, "SELECT food, rent, fun FROM budgets")
    assert len(rows) == 120 and all(r.food + r.rent < 500 and r.rent % 10 == r.fun % 10 and r.food >= 0 for r in rows)
    assert len({(r.food, r.rent, r.fun) for r in rows}) > 5
    folder = tmp_path / "recipes"
    assert cli("scaffold", "--out", str(folder), "--rows", "120", "--database-url", db_url).exit_code == 0
    scaffolded = cli_json("run", "inferred", "--recipes", str(folder), "--no-migrate", "--database-url", twin)
    assert scaffolded["fingerprint"] == report["fingerprint"]


def test_a_not_null_column_of_a_type_seedkit_cannot_fill_names_the_override(pg_url):
    _create(pg_url, ["CREATE TABLE shapes (id serial PRIMARY KEY, area point NOT NULL, hint point)"])
    result = cli("run", "--infer", "--no-migrate", "--database-url", pg_url)
    assert result.exit_code == 2, result.output
    assert "shapes.area" in result.stderr and "area=factory" in result.stderr
