"""Protected targets hold wherever libpq would really connect, and no URL ever prints its password.

libpq reads more than a URL's host and path: query parameters override them, a service file or
the PG* environment fill them in. Each case here once wrote into a protected database.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import cli, cli_json, seedkit_process
from tests.library_project import write_project


@pytest.fixture
def prod_db(pg_admin):
    """A real, empty database whose name a ``prod*`` pattern protects; dropped after the test."""
    name = f"prod_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield name
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _tables_in(database: str) -> list[str]:
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}")
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _protect(tmp_path, monkeypatch, *patterns: str):
    project = write_project(tmp_path / "p")
    pyproject = project / "pyproject.toml"
    listed = ", ".join(f'"{p}"' for p in patterns)
    pyproject.write_text(pyproject.read_text() + f"protected = [{listed}]\n")
    monkeypatch.chdir(project)
    return project


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/ok?dbname={db}",
        "postgresql+psycopg://postgres@127.0.0.1:5432/ok?dbname={db}",
        "postgresql://postgres@/?host=127.0.0.1&dbname={db}",
    ],
)
@pytest.mark.parametrize("how", ["flag", "DATABASE_URL", "reset"])
def test_query_parameters_cannot_hide_a_protected_database(tmp_path, monkeypatch, prod_db, url, how):
    _protect(tmp_path, monkeypatch, "prod*")
    url = url.format(db=prod_db)
    if how == "flag":
        result = cli("run", "library", "--database-url", url)
    elif how == "DATABASE_URL":
        monkeypatch.setenv("DATABASE_URL", url)
        result = cli("run", "library")
    else:
        result = cli("reset", "library", "--yes", "--database-url", url)
    assert result.exit_code == 2, result.output
    assert "protected pattern 'prod*'" in result.stderr and prod_db in result.stderr
    assert _tables_in(prod_db) == []


def test_a_parameter_given_twice_is_refused(prod_db):
    result = cli("run", "tiny", "--database-url", f"postgres://postgres@127.0.0.1/ok?dbname=ok&dbname={prod_db}")
    assert result.exit_code == 2 and "dbname more than once" in result.stderr
    assert _tables_in(prod_db) == []


def test_the_pg_environment_cannot_hide_a_protected_database(tmp_path, monkeypatch, prod_db):
    _protect(tmp_path, monkeypatch, "prod*")
    monkeypatch.setenv("PGDATABASE", prod_db)
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    result = cli("reset", "library", "--yes", "--database-url", "postgresql://postgres@")
    assert result.exit_code == 2, result.output
    assert "protected" in result.stderr and prod_db in result.stderr
    assert _tables_in(prod_db) == []


def test_a_service_file_cannot_hide_a_protected_database(tmp_path, monkeypatch, prod_db):
    _protect(tmp_path, monkeypatch, "prod*")
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[shop]\nhost=127.0.0.1\nport=5432\ndbname={prod_db}\nuser=postgres\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    for url in ("postgresql://postgres@/?service=shop", "postgresql://"):
        monkeypatch.setenv("PGSERVICE", "shop")
        result = cli("run", "library", "--database-url", url)
        assert result.exit_code == 2, (url, result.output)
        assert "protected" in result.stderr
    assert _tables_in(prod_db) == []


def test_an_unknown_service_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PGSERVICEFILE", str(tmp_path / "none.conf"))
    result = cli("run", "tiny", "--database-url", "postgresql://postgres@/?service=elsewhere")
    assert result.exit_code == 2
    assert "service 'elsewhere' is not defined" in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.1:5432/{db}",
        "postgresql://postgres@/{db}?host=127.0.0.1",
        "postgresql://postgres@/{db}?host=/var/run/postgresql&hostaddr=127.0.0.1",
        "postgresql://postgres@somewhere.invalid/{db}?host=127.0.0.1",
        # Only the live connection tells that localhost is 127.0.0.1: refused after connecting.
        "postgresql://postgres@localhost:5432/{db}",
    ],
)
def test_protected_hosts_hold_under_every_spelling(tmp_path, monkeypatch, pg_url, url):
    _protect(tmp_path, monkeypatch, "127.0.0.1")
    database = pg_url.rsplit("/", 1)[1]
    result = cli("run", "library", "--database-url", url.format(db=database))
    assert result.exit_code == 2, result.output
    assert "protected pattern '127.0.0.1'" in result.stderr
    assert _tables_in(database) == []


def test_a_url_naming_no_database_is_refused(monkeypatch):
    for var in ("PGDATABASE", "PGSERVICE"):
        monkeypatch.delenv(var, raising=False)
    for url in ("postgresql://", "postgresql://postgres@127.0.0.1:5432"):
        result = cli("run", "tiny", "--database-url", url)
        assert result.exit_code == 2, result.output
        assert "names no database" in result.stderr


def test_a_database_named_by_the_environment_is_seeded_and_shown(monkeypatch, pg_url):
    database = pg_url.rsplit("/", 1)[1]
    monkeypatch.setenv("PGDATABASE", database)
    monkeypatch.setenv("PGHOST", "127.0.0.1")
    report = cli_json("run", "tiny", "--database-url", "postgresql://postgres@")
    assert report["target"] == f"postgresql://postgres@127.0.0.1/{database}"
    assert report["total_rows"] > 0 and "users" in _tables_in(database)


def test_a_password_in_the_query_is_never_printed(pg_url):
    url = pg_url + "?password=Qu3rySecretPw"
    report = cli_json("run", "tiny", "--database-url", url)  # trust auth ignores it
    assert "Qu3rySecretPw" not in str(report) and "***" in report["target"]
    refused = cli("run", "tiny", "--debug", "--database-url", url)
    assert refused.exit_code == 2 and "Qu3rySecretPw" not in refused.output
    status = seedkit_process("status", "--json", "--database-url", url)
    assert status.returncode == 0, status.stderr
    assert "Qu3rySecretPw" not in status.stdout + status.stderr and "***" in status.stdout
    migrate = cli("migrate", "--database-url", url)
    assert migrate.exit_code == 0 and "Qu3rySecretPw" not in migrate.output
    unreachable = cli("run", "tiny", "--debug", "--database-url", "postgresql://u@127.0.0.1:1/x?password=Qu3rySecretPw")
    assert unreachable.exit_code == 1 and "Cannot connect" in unreachable.stderr
    assert "Qu3rySecretPw" not in unreachable.output


def test_a_port_that_is_not_a_number_is_a_usage_error():
    for url in ("postgresql://u@127.0.0.1:notaport/x", "postgresql://u@127.0.0.1:70000/x"):
        result = cli("run", "tiny", "--database-url", url)
        assert result.exit_code == 2, result.output
        assert "Malformed database URL" in result.stderr and len(result.stderr.splitlines()) <= 3
