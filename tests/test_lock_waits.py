"""A command blocked by another client's lock says what it waits for, and --lock-timeout bounds it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from seedkit.backends.postgresql import _ADVISORY_LOCK_KEY
from tests.conftest import Running, cli, fingerprint_of


@contextmanager
def _holding(url: str, statement: str, *params: dict) -> Iterator[int]:
    """Another client (named migration-by-hand) holding a lock until the block ends; its pid."""
    engine = create_engine(url)
    try:
        with engine.connect() as holder:
            holder.execute(text("SET application_name = 'migration-by-hand'"))
            pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
            holder.execute(text(statement), *params)  # the last query, as pg_stat_activity shows it
            yield pid
            holder.rollback()
    finally:
        engine.dispose()


def test_postgresql_names_the_client_whose_lock_it_waits_for(pg_url):
    assert cli("run", "tiny", "--database-url", pg_url).exit_code == 0
    with _holding(pg_url, "LOCK TABLE users IN ACCESS EXCLUSIVE MODE") as pid:
        run = Running("run", "tiny", "--truncate", "--yes", "--database-url", pg_url)
        line = run.wait_for(f"waiting for a lock held by pid {pid}")
        assert "migration-by-hand" in line and "LOCK TABLE users" in line
    code, stderr = run.finish()
    assert code == 0, stderr


def test_postgresql_lock_timeout_gives_up_and_writes_nothing(pg_url):
    assert cli("run", "tiny", "--database-url", pg_url).exit_code == 0
    before = fingerprint_of(pg_url)
    with _holding(pg_url, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"):
        result = cli("run", "tiny", "--truncate", "--yes", "--lock-timeout", "1", "--database-url", pg_url)
    assert result.exit_code == 1, result.output
    assert "Gave up waiting for a lock" in result.stderr and "after 1s (--lock-timeout)" in result.stderr
    assert fingerprint_of(pg_url) == before


def test_postgresql_says_when_it_waits_for_another_seedkit_run(pg_url):
    with _holding(pg_url, "SELECT pg_advisory_xact_lock(:k)", {"k": _ADVISORY_LOCK_KEY}) as pid:
        run = Running("run", "tiny", "--database-url", pg_url)
        run.wait_for(f"waiting for another seedkit run (pid {pid})")
    code, stderr = run.finish()
    assert code == 0, stderr


def test_sqlite_says_it_waits_and_honours_lock_timeout(sqlite_url):
    assert cli("run", "tiny", "--database-url", sqlite_url).exit_code == 0
    before = fingerprint_of(sqlite_url)
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    timed_out = cli("run", "tiny", "--append", "--lock-timeout", "0.5", "--database-url", sqlite_url)
    assert timed_out.exit_code == 1, timed_out.output
    assert "waiting for another seedkit run" in timed_out.stderr and "Gave up waiting" in timed_out.stderr
    run = Running("run", "tiny", "--append", "--database-url", sqlite_url)
    run.wait_for("waiting for another seedkit run (or another writer)")
    holder.execute("ROLLBACK")
    holder.close()
    code, stderr = run.finish()
    assert code == 0, stderr
    assert fingerprint_of(sqlite_url)["tables"]["users"]["rows"] == 2 * before["tables"]["users"]["rows"]
