"""The pytest plugin, run the way a user's suite runs it: pytest in a subprocess, in a project
holding the demo's recipes and migrations, on SQLite files and on PostgreSQL."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import ADMIN_URL, ROOT, cli_json

DEMO_USERS = 58  # the demo at seed 0, scale 1 (seedkit run demo --json says so; checked below)


@pytest.fixture
def project(pytester: pytest.Pytester, tmp_path, monkeypatch, pg_admin) -> pytest.Pytester:
    """A project with the demo recipe and migrations, its templates kept in its own cache folder
    (SQLite) and dropped from the server afterwards (PostgreSQL)."""
    for folder in ("recipes", "migrations"):
        shutil.copytree(ROOT / folder, pytester.path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "alembic.ini", pytester.path / "alembic.ini")
    pytester.makeini("[pytest]\nseedkit_recipe = demo\nasyncio_default_fixture_loop_scope = function\n")
    monkeypatch.setenv("SEEDKIT_CACHE_DIR", str(tmp_path / "cache"))
    with pg_admin.connect() as conn:
        before = set(conn.execute(text("SELECT datname FROM pg_database")).scalars())
    yield pytester
    with pg_admin.connect() as conn:
        described = text("SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database")
        for name, comment in conn.execute(described).all():
            # Only what this project's plugin made: other tests may be running beside this one.
            ours = name.startswith("seedkit_test_") or str(pytester.path) in (comment or "")
            if name not in before and ours:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _databases(pg_admin, prefix: str) -> list[str]:
    with pg_admin.connect() as conn:
        query = text("SELECT datname FROM pg_database WHERE datname LIKE :p")
        return conn.execute(query, {"p": prefix.replace("_", "\\_") + "%"}).scalars().all()


BACKENDS = ["sqlite", "postgresql"]


def _args(backend: str, *more: str) -> list[str]:
    return [
        *(["--seedkit-database-url", ADMIN_URL] if backend == "postgresql" else []),
        "-p",
        "no:cacheprovider",
        *more,
    ]


def test_demo_size_is_what_the_tests_expect(sqlite_url):
    assert cli_json("run", "demo", "--database-url", sqlite_url)["tables"]["users"] == DEMO_USERS


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_test_gets_the_seeded_data_in_a_database_of_its_own(project, backend, pg_admin):
    project.makepyfile(
        test_users=f"""
        from sqlalchemy import text

        def test_a_deletes_every_order_item(seedkit_connection):
            seedkit_connection.execute(text("DELETE FROM order_items"))
            seedkit_connection.commit()
            assert seedkit_connection.execute(text("SELECT count(*) FROM order_items")).scalar() == 0

        def test_b_still_sees_them(seedkit_session):
            assert seedkit_session.execute(text("SELECT count(*) FROM users")).scalar() == {DEMO_USERS}
            assert seedkit_session.execute(text("SELECT count(*) FROM order_items")).scalar() > 0

        def test_c_the_url_is_its_own(seedkit_url, seedkit_engine):
            assert str(seedkit_engine.url.database) in seedkit_url
        """
    )
    result = project.runpytest_subprocess(*_args(backend))
    result.assert_outcomes(passed=3)
    assert _databases(pg_admin, "seedkit_test_") == []  # dropped after each test
    assert _databases(pg_admin, "seedkit_build_") == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_clone_holds_the_data_a_seed_gives(project, backend, sqlite_url):
    project.makepyfile(
        test_fp="""
        import json, subprocess, sys

        def test_fingerprint(seedkit_url):
            out = subprocess.run([sys.executable, "-m", "seedkit", "fingerprint", "--json", "--database-url", seedkit_url],
                                 capture_output=True, text=True, check=True).stdout
            print("FINGERPRINT", json.loads(out)["overall"])
        """
    )
    result = project.runpytest_subprocess(*_args(backend, "-s"))
    result.assert_outcomes(passed=1)
    shown = next(line.split("FINGERPRINT ")[1].split()[0] for line in result.outlines if "FINGERPRINT " in line)
    assert shown == cli_json("run", "demo", "--database-url", sqlite_url)["fingerprint"]


def test_the_marker_chooses_seed_and_scale(project):
    project.makepyfile(
        test_marked=f"""
        import pytest
        from sqlalchemy import text

        @pytest.mark.seedkit(scale=2)
        def test_twice_the_users(seedkit_session):
            assert seedkit_session.execute(text("SELECT count(*) FROM users")).scalar() > {DEMO_USERS}

        @pytest.mark.seedkit(seed=3)
        def test_another_seed(seedkit_session):
            assert seedkit_session.execute(text("SELECT count(*) FROM users")).scalar() > 0
        """
    )
    project.runpytest_subprocess(*_args("sqlite")).assert_outcomes(passed=2)
    listed = cli_json("cache", "list", "--database-url", "sqlite:///unused.db")
    assert sorted((t["seed"], t["scale"]) for t in listed) == [(0, 2.0), (3, 1.0)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_pytest_factoryboy_factories_write_through_the_tests_session(project, backend):
    project.makepyfile(
        test_factories=f"""
        import pytest
        from pytest_factoryboy import register
        from sqlalchemy import select, func

        from recipes.factories import UserFactory
        from recipes.models import User

        register(UserFactory)

        pytestmark = pytest.mark.seedkit

        def test_a_user_fixture_is_a_row_beside_the_seeded_ones(user, seedkit_session):
            assert seedkit_session.get(User, user.id) is user
            assert seedkit_session.scalar(select(func.count()).select_from(User)) == {DEMO_USERS} + 1

        @pytest.mark.parametrize("user__name", ["Ada Lovelace"])
        def test_parametrised(user, seedkit_session):
            assert seedkit_session.scalar(select(User.name).where(User.id == user.id)) == "Ada Lovelace"
        """
    )
    project.runpytest_subprocess(*_args(backend)).assert_outcomes(passed=2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_async_session(project, backend):
    project.makepyfile(
        test_async=f"""
        import pytest
        from sqlalchemy import select, func
        from recipes.models import User

        @pytest.mark.asyncio
        async def test_users(seedkit_async_session):
            assert await seedkit_async_session.scalar(select(func.count()).select_from(User)) == {DEMO_USERS}
        """
    )
    project.runpytest_subprocess(*_args(backend)).assert_outcomes(passed=1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failed_tests_database_is_kept_when_asked(project, backend, pg_admin):
    project.makepyfile(
        test_fails="""
        def test_fails(seedkit_url):
            print("URL", seedkit_url)
            assert False
        """
    )
    result = project.runpytest_subprocess(*_args(backend, "--seedkit-keep-failed", "-rA"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*kept the failed test's database*"])
    if backend == "postgresql":
        assert len(_databases(pg_admin, "seedkit_test_")) == 1
    else:
        url = next(line.split("URL ")[1].split()[0] for line in result.outlines if "URL sqlite" in line)
        assert url.startswith("sqlite:///") and Path(url[len("sqlite:///") :]).exists()


def test_xdist_workers_build_one_template_between_them(project):
    project.makepyfile(
        test_many="\n".join(
            f"def test_{i}(seedkit_session):\n    assert seedkit_session.bind is not None\n" for i in range(6)
        )
    )
    project.runpytest_subprocess(*_args("sqlite", "-n", "2")).assert_outcomes(passed=6)
    listed = cli_json("cache", "list", "--database-url", "sqlite:///unused.db")
    assert len(listed) == 1


def test_a_missing_recipe_setting_fails_the_test_with_a_message(project):
    project.makeini("[pytest]\n")
    project.makepyfile(test_none="def test_it(seedkit_url):\n    pass\n")
    result = project.runpytest_subprocess(*_args("sqlite"))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no recipe: set ini seedkit_recipe*"])


def test_the_readme_example_test_file_passes(project):
    readme = (ROOT / "README.md").read_text()
    example = next(b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "# tests/test_shop.py" in b)
    project.makepyfile(test_shop=example)
    project.runpytest_subprocess(*_args("sqlite")).assert_outcomes(passed=4)


def test_the_plugin_is_registered_and_documented():
    from importlib.metadata import entry_points

    assert any(e.value == "seedkit.pytest_plugin" for e in entry_points(group="pytest11"))
    readme = (ROOT / "README.md").read_text()
    assert "seedkit_async_session" in readme and "--seedkit-keep-failed" in readme
