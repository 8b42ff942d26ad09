"""Real databases for every test: a fresh SQLite file, and a fresh PostgreSQL database.

PostgreSQL comes from ``SEEDKIT_TEST_PG`` (default: the local server's ``postgres`` database,
used only to create and drop one throwaway database per test). When it cannot be reached the
PostgreSQL tests are skipped on a developer's machine, and fail under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from seedkit.cli import app

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("SEEDKIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_admin():
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the server
        engine.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true but unreachable at {ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {ADMIN_URL}")
    return engine


@pytest.fixture(scope="session")
def pg_admin():
    engine = _pg_admin()
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(_pg_url_factory) -> str:
    """A URL to a brand-new, empty PostgreSQL database, dropped after the test."""
    return _pg_url_factory()


@pytest.fixture
def another_db(request, tmp_path: Path):
    """Make a further empty database of the same kind as ``url`` (for side-by-side comparisons)."""

    def make(url: str) -> str:
        if url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'another-{uuid.uuid4().hex[:6]}.db'}"
        return request.getfixturevalue("_pg_url_factory")()

    return make


@pytest.fixture
def _pg_url_factory(pg_admin):
    names: list[str] = []

    def make() -> str:
        name = f"seedkit_suite_{uuid.uuid4().hex[:12]}"
        with pg_admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    with pg_admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'seed.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture(autouse=True)
def _project_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run from the repository root, like a user in a fresh clone, with no stray env."""
    monkeypatch.chdir(ROOT)
    for var in ("SEEDKIT_DATABASE_URL", "DATABASE_URL", "SEEDKIT_ENV"):
        monkeypatch.delenv(var, raising=False)


def demo_recipes(tmp_path: Path, **extra: str) -> str:
    """A copy of the demo's recipes folder with ``extra`` recipe modules (name -> source) added."""
    folder = tmp_path / "recipes"
    folder.mkdir()
    for source in (ROOT / "recipes").glob("*.py"):
        (folder / source.name).write_text(source.read_text())
    for name, body in extra.items():
        (folder / f"{name}.py").write_text(body)
    return str(folder)


def cli(*args: str, input: str | None = None):
    """Invoke the real CLI in-process."""
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def cli_json(*args: str) -> dict:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def seedkit_process(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 120):
    """Run ``seedkit`` in a fresh Python process, as a user's shell would."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("SEEDKIT_DATABASE_URL", "DATABASE_URL")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "seedkit", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def schema_of(url: str) -> dict:
    """Every user table's primary key, indexes, foreign keys and unique constraints, by name."""
    engine = create_engine(url)
    inspector = inspect(engine)
    found = {
        table: (
            inspector.get_pk_constraint(table),
            sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)),
            sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            sorted(str(u["column_names"]) for u in inspector.get_unique_constraints(table)),
        )
        for table in inspector.get_table_names()
        if table != "seedkit_runs"
    }
    engine.dispose()
    return found


def fingerprint_of(url: str) -> dict:
    """What ``seedkit fingerprint --json`` says; for a SQLite file that does not exist (which
    reading never creates) a marker that differs from any database's, empty ones included."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return {"tables": {}, "overall": None, "absent": parsed.database}
    return cli_json("fingerprint", "--database-url", url)


class Running:
    """A ``seedkit`` process in its own process group whose stderr is read as it comes.

    Tests wait for a line the process prints (``wait_for``), never for a fixed time: under load
    a timer fires during imports or after the seed has finished.
    """

    def __init__(self, *args: str, cwd: Path = ROOT) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("SEEDKIT_DATABASE_URL", "DATABASE_URL")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "seedkit", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr_lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, fragment: str, timeout: float = 120) -> str:
        """Block until a stderr line contains ``fragment``; fail if the process ends first."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            if line is None:
                pytest.fail(f"seedkit ended before printing {fragment!r}: {''.join(self.stderr_lines)}")
            if fragment in line:
                return line

    def children(self) -> list[int]:
        """Pids of this process's direct children, from /proc."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                found.append(int(stat.parent.name))
        return found

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Wait for the process to end; its exit code and everything it wrote to stderr."""
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode, "".join(self.stderr_lines)


def gone(pid: int, timeout: float = 30) -> bool:
    """Whether process ``pid`` has ended (or is a zombie) within ``timeout``: polled, since an
    unrelated process's end sends this one no signal."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False
