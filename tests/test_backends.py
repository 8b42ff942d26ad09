"""One implementation per database behind one interface: what each backend resolves and can do."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

from seedkit.backends import backend_for
from seedkit.backends.hosts import canonical_host
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("127.1", "127.0.0.1"), ("0x7f.0.0.1", "127.0.0.1"), ("DB.Example.", "db.example"), ("[::1]", "::1")],
)
def test_one_spelling_per_host(given, canonical):
    assert canonical_host(given) == canonical


def test_a_unix_socket_folder_stays_a_path():
    assert canonical_host("/var/run/postgresql") == "/var/run/postgresql"


def test_postgresql_resolves_what_libpq_would(monkeypatch):
    monkeypatch.setenv("PGHOST", "10.0.0.1")
    monkeypatch.setenv("PGDATABASE", "from_env")
    backend = backend_for("postgresql")
    target = backend.resolve(make_url("postgresql+psycopg://u@/?hostaddr=127.1"))
    assert target.hosts == ("10.0.0.1", "127.0.0.1") and target.database == "from_env"
    assert {"127.0.0.1/from_env", "10.0.0.1", "from_env"} <= target.names()


def test_capabilities_are_asked_not_dialects():
    sqlite, postgresql = backend_for("sqlite"), backend_for("postgresql")
    assert postgresql.copies and not sqlite.copies
    assert sqlite.transactional_ddl and postgresql.transactional_ddl


def test_no_module_outside_backends_asks_which_database_it_is():
    # Callers ask a backend what it can do (seedkit/backends); they never branch on the dialect.
    package = ROOT / "seedkit"
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in package.rglob("*.py")
        if "backends" not in path.relative_to(package).parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "dialect.name" in line
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("hosts", "cores", "finishing", "returning"),
    [
        ((), 2, 2, 1),
        (("127.0.0.1",), 2, 2, 1),
        (("/var/run/postgresql",), 8, 8, 3),
        (("db.internal",), 8, 8, 7),
        (("db",), 2, 2, 1),
    ],
)
def test_workers_auto_never_takes_the_cores_a_local_server_needs(hosts, cores, finishing, returning):
    # Workers that finish their chunks leave the parent bytes to forward: every core is theirs.
    # Workers that send rows back compete with the parent and a local server for the cores.
    from seedkit.backends import Target
    from seedkit.parallel import Workers, auto_workers

    assert auto_workers(Target(hosts=hosts, database="x", display="x"), cores) == Workers(finishing, returning)


def test_a_sqlite_target_does_not_import_postgresqls_driver():
    """psycopg is a tenth of a SQLite run's start-up: only a PostgreSQL URL loads it."""
    script = (
        "import sys\n"
        "from seedkit.backends import backend_for\n"
        "assert backend_for('sqlite').name == 'sqlite'\n"
        "print('psycopg' in sys.modules)\n"
        "assert backend_for('postgresql').name == 'postgresql'\n"
        "print('psycopg' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
