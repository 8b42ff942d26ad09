"""``seedkit.seed_into``: seeding inside a transaction the caller owns, which the caller ends."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

import seedkit
from tests.conftest import cli
from tests.library_project import write_project


def _rows(conn, table: str) -> int:
    return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_rows_are_visible_inside_the_callers_transaction_and_gone_after_its_rollback(db_url):
    assert cli("migrate", "--database-url", db_url).exit_code == 0
    engine = create_engine(db_url)
    with engine.connect() as conn:
        outer = conn.begin()
        report = seedkit.seed_into(conn, "demo", seed=4)
        assert report.tables["users"] == 58 and _rows(conn, "users") == 58
        assert report.fingerprint
        outer.rollback()
        assert _rows(conn, "users") == 0
        assert not inspect(conn).has_table("seedkit_runs")  # no run record, no lock, nothing committed
    engine.dispose()


def test_the_same_seed_gives_what_run_gives(db_url, another_db):
    other = another_db(db_url)
    assert cli("run", "demo", "--seed", "6", "--database-url", other).exit_code == 0
    ran = seedkit.fingerprint(seedkit.load_settings(database_url=other))
    assert cli("migrate", "--database-url", db_url).exit_code == 0
    engine = create_engine(db_url)
    with engine.begin() as conn:
        report = seedkit.seed_into(conn, "demo", seed=6)
    engine.dispose()
    seeded = seedkit.fingerprint(seedkit.load_settings(database_url=db_url))
    assert {t: f.hash for t, f in seeded.tables.items()} == {
        t: f.hash for t, f in ran.tables.items() if t in seeded.tables
    }
    assert report.tables == {t: f.rows for t, f in seeded.tables.items() if f.rows}


def test_a_recipe_object_and_settings_from_a_project(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p")
    settings = seedkit.load_settings(root=project, database_url=sqlite_url)
    seedkit.migrate(settings)
    engine = create_engine(sqlite_url)
    with engine.connect() as conn, conn.begin():
        report = seedkit.seed_into(conn, "library", settings=settings, seed=2)
        assert report.tables["authors"] == 10
    engine.dispose()


def test_tables_that_do_not_exist_are_named_in_library_terms(sqlite_url):
    engine = create_engine(sqlite_url)
    with engine.connect() as conn, conn.begin(), pytest.raises(seedkit.UsageError) as failed:
        seedkit.seed_into(conn, "tiny")
    engine.dispose()
    assert "migrate the database first" in str(failed.value) and "--" not in str(failed.value)


CLOCKED = """
from datetime import datetime

import factory
from seedkit import Recipe
from .library_factories import AuthorFactory

recipe = Recipe("authors whose names are the time user code reads")
authors = recipe.add(AuthorFactory, 3, pen_name=factory.LazyFunction(lambda: datetime.utcnow().isoformat()))
"""


def test_a_caller_that_freezes_its_own_clock_keeps_it(tmp_path, sqlite_url):
    freezegun = pytest.importorskip("freezegun")
    project = write_project(tmp_path / "p", {"clocked": CLOCKED})
    settings = seedkit.load_settings(root=project, database_url=sqlite_url)
    seedkit.migrate(settings)
    engine = create_engine(sqlite_url)
    with freezegun.freeze_time("2030-05-05 10:00:00"), engine.connect() as conn:
        with conn.begin(), pytest.raises(seedkit.UsageError, match=r"Environment\(clock=False\)"):
            seedkit.seed_into(conn, "clocked", settings=settings)
        with conn.begin() as outer:
            kept = seedkit.Environment(clock=False)
            report = seedkit.seed_into(conn, "clocked", settings=settings, environment=kept)
            names = conn.execute(text("SELECT DISTINCT pen_name FROM authors")).scalars().all()
            outer.rollback()
    engine.dispose()
    # The frozen instant every time (pen_name is unique: repeats are tagged "…2", "…3").
    assert report.tables == {"authors": 3} and all(n.startswith("2030-05-05T10:00:00") for n in names)


def test_protected_targets_are_refused_on_a_callers_connection_too(sqlite_url, monkeypatch):
    assert cli("migrate", "--database-url", sqlite_url).exit_code == 0
    monkeypatch.setenv("SEEDKIT_ENV", "production")
    engine = create_engine(sqlite_url)
    with engine.connect() as conn, conn.begin(), pytest.raises(seedkit.TargetRefused, match="production"):
        seedkit.seed_into(conn, "tiny")
    engine.dispose()
