"""Users bring their own models, factories, recipes and migrations: seedkit assumes none of ours."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, inspect, text

from tests.conftest import seedkit_process
from tests.library_project import write_project


def test_a_project_of_its_own_is_seeded_through_the_cli(tmp_path, db_url):
    project = write_project(tmp_path / "library")
    env = {"SEEDKIT_DATABASE_URL": db_url}

    listed = seedkit_process("list", "--json", cwd=project, env=env)
    assert listed.returncode == 0, listed.stderr
    assert [r["name"] for r in json.loads(listed.stdout)] == ["library"]

    result = seedkit_process("run", "library", "--seed", "11", "--json", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["tables"]["authors"] == 10
    assert 8 <= report["tables"]["books"] <= 24

    engine = create_engine(db_url)
    with engine.connect() as conn:
        famous = conn.execute(text("SELECT count(*) FROM authors WHERE famous")).scalar_one()
        orphans = conn.execute(
            text("SELECT count(*) FROM books b LEFT JOIN authors a ON a.id = b.author_id WHERE a.id IS NULL")
        ).scalar_one()
        titles_match = conn.execute(
            text(
                "SELECT count(*) FROM books b JOIN authors a ON a.id = b.author_id WHERE b.title LIKE a.pen_name || ': %'"
            )
        ).scalar_one()
    engine.dispose()
    assert famous == 2
    assert orphans == 0
    assert titles_match == report["tables"]["books"]

    status = seedkit_process("status", "--json", cwd=project, env=env)
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["unchanged_since_last_run"] is True and state["tables"]["audit_log"] == 0

    again = seedkit_process("run", "library", "--seed", "11", cwd=project, env=env)
    assert again.returncode == 2 and "--append" in again.stderr


STOCK_ENV = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                 poolclass=pool.NullPool)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""


def test_an_env_py_that_ignores_seedkits_connection_is_stopped_with_the_fix(tmp_path, db_url):
    project = write_project(tmp_path / "library")
    (project / "db" / "migrations" / "env.py").write_text(STOCK_ENV)
    result = seedkit_process("run", "library", "--database-url", db_url, cwd=project)
    assert result.returncode == 2, result.stderr
    assert "env.py ignores the connection seedkit passes" in result.stderr
    assert 'connection = config.attributes.get("connection")' in result.stderr
    engine = create_engine(db_url)
    assert inspect(engine).get_table_names() == []  # nothing migrated, nothing seeded
    engine.dispose()
