"""The demo migrations create the schema and downgrade to base cleanly; `seedkit migrate` drives them."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from tests.conftest import ROOT, cli

DEMO_TABLES = {"users", "products", "orders", "order_items", "projects", "tasks"}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrate_up_and_down_to_base(db_url):
    up = cli("migrate", "--database-url", db_url)
    assert up.exit_code == 0, up.output
    assert "0001" in up.stdout
    assert DEMO_TABLES <= _tables(db_url)
    down = cli("migrate", "base", "--yes", "--database-url", db_url)
    assert down.exit_code == 0, down.output
    assert _tables(db_url) & DEMO_TABLES == set()


def test_downgrade_after_seeding_leaves_no_demo_tables(db_url):
    assert cli("run", "demo", "--seed", "1", "-q", "--database-url", db_url).exit_code == 0
    assert cli("migrate", "base", "--yes", "--database-url", db_url).exit_code == 0
    assert _tables(db_url) & DEMO_TABLES == set()


def test_missing_migrations_folder_is_a_clear_error(tmp_path, sqlite_url):
    result = cli("migrate", "--alembic-config", str(tmp_path / "nowhere"), "--database-url", sqlite_url)
    assert result.exit_code == 1
    assert "does not exist" in result.stderr


def test_broken_migrations_folder_is_a_clear_error(tmp_path, sqlite_url):
    (tmp_path / "migrations").mkdir()
    result = cli("run", "tiny", "--alembic-config", str(tmp_path / "migrations"), "--database-url", sqlite_url)
    assert result.exit_code == 1
    assert "env.py" in result.stderr


def test_a_failing_migration_rolls_back_and_says_so(tmp_path, sqlite_url):
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text((ROOT / "migrations" / "env.py").read_text())
    (versions / "x1_bad.py").write_text(
        "from alembic import op\nrevision='x1'\ndown_revision=None\n"
        "def upgrade():\n    op.execute('CREATE TABLE kept (id INTEGER)')\n    op.execute('THIS IS NOT SQL')\n"
        "def downgrade():\n    pass\n"
    )
    result = cli("migrate", "--alembic-config", str(tmp_path / "migrations"), "--database-url", sqlite_url)
    assert result.exit_code == 1
    assert "Migration failed" in result.stderr and "Traceback" not in result.output
    assert "kept" not in _tables(sqlite_url)
