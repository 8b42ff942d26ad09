"""The template cache: run/reset --cache clone a template of exactly this data, or seed and keep one.

Every test here runs with a run clock of its own, so the templates it keeps (on the PostgreSQL
server, or in a cache folder in its tmp_path) are keyed apart from every other test's, and are
dropped afterwards.
"""

from __future__ import annotations

import json
import shutil
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import seedkit
from seedkit.cache import cache_key, project_sources
from seedkit.database import backend_of, parse_url
from seedkit.errors import TargetRefused, UsageError
from seedkit.randomness import parse_now
from tests.conftest import ROOT, Running, cli, cli_json, demo_recipes, fingerprint_of

pytestmark = pytest.mark.usefixtures("cache_folder")


@pytest.fixture
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SEEDKIT_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def now(pg_admin) -> str:
    """A run clock no other test uses; the PostgreSQL templates made with it are dropped after."""
    instant = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=uuid.uuid4().int % 10**7)
    clock = instant.isoformat()
    yield clock
    with pg_admin.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database "
                "WHERE datname LIKE 'seedkit\\_%'"
            )
        ).all()
        for row in rows:
            if row.comment and json.loads(row.comment).get("now") == parse_now(clock).isoformat():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{row.datname}" WITH (FORCE)'))


def _reset(url: str, now: str, *args: str) -> dict:
    return cli_json("reset", "demo", "--cache", "--yes", "--now", now, "--database-url", url, *args)


def test_a_second_reset_clones_the_template_and_status_says_so(db_url, now):
    first = _reset(db_url, now)
    assert first["cache"]["hit"] is False and first["cache"]["kept"] is True, first["cache"]
    second = _reset(db_url, now)
    assert second["cache"]["hit"] is True and second["cache"]["template"] == first["cache"]["template"]
    assert second["fingerprint"] == first["fingerprint"] == fingerprint_of(db_url)["overall"]
    assert second["tables"] == first["tables"]
    assert set(second["paths"].values()) == {"cache"}

    status = cli_json("status", "--database-url", db_url)
    assert status["last_run"]["from_cache"] is True and status["unchanged_since_last_run"] is True
    engine = create_engine(db_url)
    with engine.connect() as conn:  # the target's own history is carried over, not the template's
        runs = conn.execute(text("SELECT from_cache FROM seedkit_runs ORDER BY id")).scalars().all()
    engine.dispose()
    assert runs == [None, True]


def test_a_cached_reset_gives_the_data_a_fresh_reset_gives(db_url, another_db, now):
    _reset(db_url, now)
    fresh = another_db(db_url)
    uncached = cli_json("reset", "demo", "--yes", "--now", now, "--database-url", fresh)
    assert uncached["cache"] is None
    cached = _reset(db_url, now)
    assert cached["cache"]["hit"] and cached["fingerprint"] == uncached["fingerprint"]


def test_another_seed_or_scale_is_another_template(sqlite_url, now):
    first = _reset(sqlite_url, now)
    for other in (["--seed", "1"], ["--scale", "2"]):
        report = _reset(sqlite_url, now, *other)
        assert report["cache"]["hit"] is False and report["cache"]["key"] != first["cache"]["key"]
    assert _reset(sqlite_url, now)["cache"]["hit"] is True


def _key(settings: seedkit.Settings, **changed) -> str:
    url = parse_url(settings.database_url)
    facts = {"seed": 0, "scale": 1.0, "clock": parse_now(None), "backend": backend_of(url), "server_version": "3"}
    return cache_key(seedkit.resolve_recipe(settings, "demo"), settings, **(facts | changed))


def test_the_key_covers_recipe_sources_migrations_and_the_server(tmp_path, sqlite_url):
    recipes = Path(demo_recipes(tmp_path))
    migrations = tmp_path / "migrations"
    shutil.copytree(ROOT / "migrations", migrations)
    settings = seedkit.load_settings(database_url=sqlite_url, recipes_dir=recipes, alembic_config=migrations)
    base = _key(settings)
    assert _key(settings) == base

    factories = recipes / "factories.py"
    factories.write_text(factories.read_text() + "\n# an edit\n")
    edited = _key(settings)
    assert edited != base

    revision = migrations / "versions" / "0001_demo_schema.py"
    revision.write_text(revision.read_text() + "\n# an edit\n")
    assert _key(settings) != edited

    assert _key(settings, scale=2) == _key(settings, scale=2.0)  # from Python and from --scale
    assert _key(settings, server_version="4") != _key(settings)


def test_project_modules_a_recipe_imports_are_sources_and_installed_ones_are_not(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "fakes.py").write_text("WORDS = ['a']\n")
    (tmp_path / "app" / "factories.py").write_text("import factory\nfrom .fakes import WORDS\n")
    (tmp_path / "recipes").mkdir()
    recipe = tmp_path / "recipes" / "shop.py"
    recipe.write_text("import json\nimport sqlalchemy\nfrom app.factories import WORDS\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        found = {p.relative_to(tmp_path).as_posix() for p in project_sources([recipe], tmp_path)}
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
            del sys.modules[name]
    assert found == {"recipes/shop.py", "app/__init__.py", "app/factories.py", "app/fakes.py"}


def test_run_cache_clones_into_an_empty_target_and_refuses_one_with_rows(db_url, another_db, now):
    keeper = another_db(db_url)
    kept = cli_json("run", "demo", "--cache", "--now", now, "--database-url", keeper)
    assert kept["cache"]["kept"] is True
    cloned = cli_json("run", "demo", "--cache", "--now", now, "--database-url", db_url)
    assert cloned["cache"]["hit"] is True and cloned["fingerprint"] == kept["fingerprint"]

    before = fingerprint_of(db_url)
    refused = cli("run", "demo", "--cache", "--now", now, "--database-url", db_url)
    assert refused.exit_code == 2 and "already holds rows" in refused.stderr
    assert fingerprint_of(db_url) == before


@pytest.mark.parametrize("flag", ["--append", "--truncate", "--if-empty", "--no-migrate"])
def test_cache_refuses_options_that_do_not_seed_a_whole_database(sqlite_url, now, flag):
    result = cli("run", "demo", "--cache", flag, "--yes", "--now", now, "--database-url", sqlite_url)
    assert result.exit_code == 2 and "--cache" in result.stderr, result.stderr


def test_sessions_on_the_target_refuse_the_swap_unless_told_to_end_them(pg_url, now):
    settings = seedkit.load_settings(database_url=pg_url)
    first = seedkit.reset("demo", settings=settings, now=now, cache=True)
    engine = create_engine(pg_url)
    conn = engine.connect()
    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    conn.execute(text("DELETE FROM order_items"))
    conn.commit()
    changed = fingerprint_of(pg_url)["overall"]
    with pytest.raises(TargetRefused, match=f"pid {pid}"):
        seedkit.reset("demo", settings=settings, now=now, cache=True)
    assert fingerprint_of(pg_url)["overall"] == changed  # nothing was changed

    report = seedkit.reset("demo", settings=settings, now=now, cache=True, end_sessions=True)
    assert report.cache.hit and report.cache.sessions_ended == 1
    assert fingerprint_of(pg_url)["overall"] == first.fingerprint
    with pytest.raises(Exception, match="terminat"):
        conn.execute(text("SELECT 1"))
    engine.dispose()


def test_no_template_is_kept_while_another_session_holds_the_target(pg_url, now):
    engine = create_engine(pg_url)
    with engine.connect():
        report = seedkit.reset("demo", settings=seedkit.load_settings(database_url=pg_url), now=now, cache=True)
    engine.dispose()
    assert report.cache.kept is False and "1 other session(s) are connected" in report.cache.note
    assert report.fingerprint == fingerprint_of(pg_url)["overall"]  # the run itself committed
    assert cli_json("cache", "list", "--database-url", pg_url) == [] or all(
        t["now"] != parse_now(now).isoformat() for t in cli_json("cache", "list", "--database-url", pg_url)
    )


def test_cache_list_and_clear(sqlite_url, now, cache_folder):
    _reset(sqlite_url, now)
    _reset(sqlite_url, now, "--seed", "7")
    listed = cli_json("cache", "list", "--database-url", sqlite_url)
    assert sorted(t["seed"] for t in listed) == [0, 7]
    assert all(t["recipe"] == "demo" and t["size"] > 0 and t["project"] == str(ROOT) for t in listed)
    shown = cli("cache", "list", "--database-url", sqlite_url)
    assert shown.exit_code == 0 and "demo" in shown.stdout

    stray = cache_folder / "seedkit_new_0123456789ab.sqlite"  # what a killed command leaves
    stray.write_bytes(b"")
    cleared = cli("cache", "clear", "--database-url", sqlite_url)
    assert cleared.exit_code == 0 and "3 removed" in cleared.stdout
    assert cli_json("cache", "list", "--database-url", sqlite_url) == [] and not stray.exists()
    assert _reset(sqlite_url, now)["cache"]["hit"] is False


def test_pyproject_turns_the_cache_on(tmp_path, monkeypatch, sqlite_url, now):
    shutil.copytree(ROOT / "recipes", tmp_path / "recipes")
    shutil.copytree(ROOT / "migrations", tmp_path / "migrations")
    (tmp_path / "pyproject.toml").write_text("[tool.seedkit]\ncache = true\n")
    monkeypatch.chdir(tmp_path)
    assert _reset_plain(sqlite_url, now)["cache"]["kept"] is True
    assert _reset_plain(sqlite_url, now)["cache"]["hit"] is True
    assert cli_json("reset", "demo", "--no-cache", "--yes", "--now", now, "--database-url", sqlite_url)["cache"] is None


def _reset_plain(url: str, now: str) -> dict:
    return cli_json("reset", "demo", "--yes", "--now", now, "--database-url", url)


def test_a_protected_target_is_refused_before_any_copy(tmp_path, monkeypatch, pg_url, now):
    shutil.copytree(ROOT / "recipes", tmp_path / "recipes")
    shutil.copytree(ROOT / "migrations", tmp_path / "migrations")
    name = make_url(pg_url).database
    (tmp_path / "pyproject.toml").write_text(f'[tool.seedkit]\nprotected = ["{name}"]\n')
    monkeypatch.chdir(tmp_path)
    result = cli("reset", "demo", "--cache", "--yes", "--now", now, "--database-url", pg_url)
    assert result.exit_code == 2 and "protected" in result.stderr
    assert fingerprint_of(pg_url)["tables"] == {}


def _leftovers(pg_admin) -> list[str]:
    with pg_admin.connect() as conn:
        query = (
            "SELECT datname FROM pg_database WHERE datname LIKE 'seedkit\\_new\\_%' OR datname LIKE 'seedkit\\_old\\_%'"
        )
        return conn.execute(text(query)).scalars().all()


@pytest.mark.parametrize("stage", ["cloning template", "replacing", "replaced"])
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_an_interrupted_cached_reset_leaves_the_old_database_or_the_new_one(db_url, now, pg_admin, stage, how):
    new = _reset(db_url, now, "--seed", "2")["fingerprint"]  # keeps the template
    old = cli_json("reset", "demo", "--yes", "--seed", "1", "--now", now, "--database-url", db_url)["fingerprint"]
    assert old != new

    running = Running("reset", "demo", "--cache", "--yes", "--seed", "2", "--now", now, "--database-url", db_url)
    running.wait_for(stage)
    running.proc.send_signal(how)
    code, _ = running.finish()
    assert code != 0 or stage == "replaced"  # past the swap, an interrupt may come too late to matter

    assert fingerprint_of(db_url)["overall"] in (old, new)
    cli("cache", "clear", "--database-url", db_url)
    if db_url.startswith("postgresql"):
        assert _leftovers(pg_admin) == []
    else:
        folder = Path(make_url(db_url).database).parent
        assert not list(folder.glob("seedkit_new_*"))


def test_a_database_that_is_not_there_yet_is_created_from_the_template(pg_url, pg_admin, now):
    _reset(pg_url, now)
    name = f"seedkit_suite_{uuid.uuid4().hex[:12]}"
    target = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        report = cli_json("run", "demo", "--cache", "--now", now, "--database-url", target)
        assert report["cache"]["hit"] is True and fingerprint_of(target)["overall"] == report["fingerprint"]
    finally:
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_an_in_memory_database_cannot_be_cached(now):
    with pytest.raises(UsageError, match="file"):
        seedkit.reset("demo", settings=seedkit.load_settings(database_url="sqlite://"), now=now, cache=True)


def test_a_recipe_inferred_from_the_schema_is_cached_too(sqlite_url, now):
    first = cli_json("reset", "--infer", "--rows", "7", "--cache", "--yes", "--now", now, "--database-url", sqlite_url)
    again = cli_json("reset", "--infer", "--rows", "7", "--cache", "--yes", "--now", now, "--database-url", sqlite_url)
    other = cli_json("reset", "--infer", "--rows", "8", "--cache", "--yes", "--now", now, "--database-url", sqlite_url)
    assert first["cache"]["kept"] and again["cache"]["hit"] and not other["cache"]["hit"]
    assert again["fingerprint"] == first["fingerprint"] != other["fingerprint"]
