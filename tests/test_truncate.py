"""``run --truncate`` empties the recipe's tables as DELETE would, by TRUNCATE where that is the
same, and restarts their sequences: the run gives what a fresh one gives."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import cli, fingerprint_of

TINY_TABLES = ("users", "products", "orders", "order_items")


def _sql(url: str, *statements: str) -> list:
    """Run ``statements`` in one committed transaction; the last one's rows."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            rows: list = []
            for statement in statements:
                result = conn.execute(text(statement))
                rows = list(result) if result.returns_rows else []
            return rows
    finally:
        engine.dispose()


def _files(url: str) -> dict[str, int]:
    """Each tiny table's storage file: TRUNCATE gives a table a new one, DELETE keeps it."""
    names = ", ".join(f"'{t}'" for t in TINY_TABLES)
    return dict(_sql(url, f"SELECT relname, relfilenode FROM pg_class WHERE relname IN ({names})"))


def _truncate(url: str) -> None:
    result = cli("run", "tiny", "--seed", "1", "--truncate", "--yes", "--database-url", url)
    assert result.exit_code == 0, result.output


def test_truncate_gives_what_a_fresh_run_gives(db_url, another_db):
    assert cli("run", "tiny", "--seed", "2", "--database-url", db_url).exit_code == 0
    _truncate(db_url)
    fresh = another_db(db_url)
    assert cli("run", "tiny", "--seed", "1", "--database-url", fresh).exit_code == 0
    assert fingerprint_of(db_url)["tables"] == fingerprint_of(fresh)["tables"]


def test_postgresql_truncates_in_one_statement(pg_url):
    assert cli("run", "tiny", "--seed", "2", "--database-url", pg_url).exit_code == 0
    before = _files(pg_url)
    _truncate(pg_url)
    after = _files(pg_url)
    assert all(after[t] != before[t] for t in TINY_TABLES), (before, after)


def test_postgresql_deletes_where_a_trigger_must_see_the_rows(pg_url):
    assert cli("run", "tiny", "--seed", "2", "--database-url", pg_url).exit_code == 0
    orders = _sql(pg_url, "SELECT count(*) FROM orders")[0][0]
    _sql(
        pg_url,
        "CREATE TABLE gone (order_id int)",
        "CREATE FUNCTION note_gone() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO gone VALUES (OLD.id); RETURN OLD; END $$",
        "CREATE TRIGGER noted AFTER DELETE ON orders FOR EACH ROW EXECUTE FUNCTION note_gone()",
    )
    before = _files(pg_url)
    _truncate(pg_url)
    assert _sql(pg_url, "SELECT count(*) FROM gone")[0][0] == orders
    assert _files(pg_url) == before  # DELETE, on every table: one statement empties them or none


def test_postgresql_deletes_where_another_table_points_at_the_rows(pg_url):
    assert cli("run", "tiny", "--seed", "2", "--database-url", pg_url).exit_code == 0
    _sql(
        pg_url,
        "CREATE TABLE notes (id int PRIMARY KEY, user_id int REFERENCES users (id) ON DELETE SET NULL)",
        "INSERT INTO notes SELECT id, id FROM users",
    )
    users = _sql(pg_url, "SELECT count(*) FROM users")[0][0]
    before = _files(pg_url)
    _truncate(pg_url)
    # The notes outside the recipe stay, no longer pointing at anyone, as DELETE leaves them.
    assert _sql(pg_url, "SELECT count(*), count(user_id) FROM notes")[0] == (users, 0)
    assert _files(pg_url) == before


@pytest.mark.parametrize("watched", [False, True])
def test_truncate_restarts_the_sequences_the_database_numbers_keys_with(pg_url, watched):
    """Keys the database numbers (a serial inside a composite key) start again as in a new
    database, so --truncate gives what a fresh run gives: by TRUNCATE, through partitioned
    tables' parents, or by DELETE where a trigger watches (``watched``)."""
    from tests.test_infer_schema import PARTITIONED, _create, _infer

    watch = [  # a trigger that changes nothing, but that TRUNCATE would not fire
        "CREATE FUNCTION watch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
        "CREATE TRIGGER watched AFTER DELETE ON customers FOR EACH ROW EXECUTE FUNCTION watch()",
    ]
    _create(pg_url, PARTITIONED + (watch if watched else []))
    first = _infer(pg_url, "--rows", "50")
    partitions = "SELECT relname, relfilenode FROM pg_class WHERE relname IN ('events_2025', 'shops_eu')"
    before = dict(_sql(pg_url, partitions))
    again = _infer(pg_url, "--rows", "50", "--truncate", "--yes")
    assert again["fingerprint"] == first["fingerprint"]
    after = dict(_sql(pg_url, partitions))
    assert (after == before) if watched else all(after[name] != before[name] for name in before)
