"""The sharp edges a new user hits: bad input is one screen and exit 2 before anything is
touched, destructive commands ask first, and read-only commands never create a database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, Running, cli, cli_json, demo_recipes, fingerprint_of, seedkit_process
from tests.library_project import books_with_pages, cli_options, write_project


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--now", "yesterday"], "now must be an ISO 8601"),
        (["--now", "1200-01-01"], "now must lie between"),
        (["--now", "9999-12-31T23:00:00-05:00"], "now must lie between"),
        (["--scale", "inf"], "--scale"),
        (["--scale", "nan"], "--scale"),
        (["--seed", str(2**40)], "--seed"),
        (["--seed", "-1"], "--seed"),
        (["--writer", "fastest"], "Unknown writer 'fastest'"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_options_are_refused_before_anything_is_touched(sqlite_url, args, names):
    result = cli("run", "tiny", *args, "--database-url", sqlite_url)
    assert result.exit_code == 2, result.output
    assert names in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 8
    assert not _sqlite_path(sqlite_url).exists()


def test_read_only_commands_never_create_a_database(sqlite_url):
    for command in ("status", "fingerprint"):
        result = cli(command, "--database-url", sqlite_url)
        assert result.exit_code == 1 and "does not exist" in result.stderr
    assert not _sqlite_path(sqlite_url).exists()


def test_a_failed_run_on_a_new_sqlite_file_leaves_no_file(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p", {"boom": BOOM})
    result = cli("run", "boom", "--database-url", sqlite_url, *cli_options(project))
    assert result.exit_code == 1 and "the factory broke" in result.stderr
    assert not _sqlite_path(sqlite_url).exists()


def test_a_failed_run_on_an_existing_file_keeps_it(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p", {"boom": BOOM})
    assert cli("migrate", "--database-url", sqlite_url, *cli_options(project)[2:]).exit_code == 0
    before = fingerprint_of(sqlite_url)
    assert cli("run", "boom", "--database-url", sqlite_url, *cli_options(project)).exit_code == 1
    assert fingerprint_of(sqlite_url) == before


BOOM = """
import factory
from seedkit import Recipe
from .library_factories import AuthorFactory

def broken():
    raise RuntimeError("the factory broke")

recipe = Recipe("fails on its first row")
authors = recipe.add(AuthorFactory, 3, pen_name=factory.LazyFunction(broken))
"""


def test_downgrades_ask_first_and_refuse_without_a_terminal(db_url):
    assert cli("run", "tiny", "--database-url", db_url).exit_code == 0
    before = fingerprint_of(db_url)
    for revision in ("base", "-1"):
        result = cli("migrate", revision, "--database-url", db_url)
        assert result.exit_code == 2, result.output
        assert "--yes" in result.stderr and "downgrade" in result.stderr
    assert fingerprint_of(db_url) == before
    down = cli("migrate", "-1", "--yes", "--database-url", db_url)
    assert down.exit_code == 0, down.output
    assert "at revision base" in down.stdout


def test_a_very_large_run_wants_yes_and_says_why(sqlite_url):
    quiet = cli("run", "tiny", "--scale", "1e9", "-q", "--database-url", sqlite_url)
    assert quiet.exit_code == 2
    assert "pass --yes" in quiet.stderr and "rows" in quiet.stderr
    plain = cli("run", "tiny", "--scale", "1e9", "--database-url", sqlite_url)
    assert plain.exit_code == 2 and "planning about" in plain.stderr
    assert not _sqlite_path(sqlite_url).exists()


def test_a_large_run_says_how_many_rows_it_plans(sqlite_url):
    run = Running("run", "tiny", "--scale", "5e4", "--database-url", sqlite_url)
    assert "planning about 1,000,000 rows" in run.wait_for("planning about")
    run.wait_for("seeding")  # it goes on after saying so; no need to wait for 1.4M rows
    os.killpg(run.proc.pid, signal.SIGTERM)
    code, stderr = run.finish()
    assert code == 130, stderr


def test_a_value_the_column_cannot_hold_fails_the_same_on_both_backends(tmp_path, db_url):
    project = write_project(tmp_path / "p", {"values": books_with_pages('"lots"')})
    opts = cli_options(project)
    assert cli("run", "library", "--database-url", db_url, *opts).exit_code == 0
    before = fingerprint_of(db_url)
    result = cli("run", "values", "--append", "--database-url", db_url, *opts)
    assert result.exit_code == 1
    assert "step 'books': column books.pages (int) cannot hold 'lots' (str)" in result.stderr
    assert fingerprint_of(db_url) == before


def test_a_boolean_is_not_an_integer(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p", {"values": books_with_pages("True")})
    result = cli("run", "values", "--database-url", sqlite_url, *cli_options(project))
    assert result.exit_code == 1 and "cannot hold True (bool)" in result.stderr


PRIMARY_KEY = """
from seedkit import Recipe
from .library_factories import AuthorFactory

recipe = Recipe("overrides the key seedkit numbers")
authors = recipe.add(AuthorFactory, 2, id=1)
"""


def test_overriding_a_numbered_primary_key_is_refused(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p", {"pk": PRIMARY_KEY})
    result = cli("run", "pk", "--database-url", sqlite_url, *cli_options(project))
    assert result.exit_code == 2
    assert "step 'authors'" in result.stderr and "primary key 'id'" in result.stderr


def test_step_name_names_the_step_and_name_sets_a_name_column(tmp_path, db_url):
    header = "from seedkit import Recipe\nfrom .factories import UserFactory\n\nrecipe = Recipe('users')\n"
    folder = demo_recipes(
        tmp_path,
        fixed=header + 'staff = recipe.add(UserFactory, 2, step_name="staff", name="Fixed Name")\n',
        ambiguous=header + 'staff = recipe.add(UserFactory, 2, name="staff")\n',
    )
    report = cli_json("run", "fixed", "--recipes", folder, "--database-url", db_url)
    assert report["tables"] == {"users": 2}
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT DISTINCT name FROM users")).scalars().all() == ["Fixed Name"]
    engine.dispose()
    plan = cli_json("plan", "fixed", "--recipes", folder)
    assert [s["name"] for s in plan["steps"]] == ["staff"]
    ambiguous = cli("plan", "ambiguous", "--recipes", folder)
    assert ambiguous.exit_code == 2
    assert "ambiguous" in ambiguous.stderr and "step_name='staff'" in ambiguous.stderr


def test_name_still_names_a_step_where_the_model_has_no_name_field(tmp_path):
    recipe = (
        "from seedkit import Recipe\nfrom .library_factories import AuthorFactory\n\n"
        'recipe = Recipe("old spelling")\nmore = recipe.add(AuthorFactory, 2, name="more_authors")\n'
    )
    project = write_project(tmp_path / "p", {"old": recipe})
    with pytest.warns(FutureWarning, match="step_name"):
        plan = cli_json("plan", "old", "--recipes", str(project / "seeds"))
    assert [s["name"] for s in plan["steps"]] == ["more_authors"]


def test_a_step_name_that_is_not_a_string_is_a_recipe_error(tmp_path):
    recipe = (
        "from seedkit import Recipe\nfrom .library_factories import AuthorFactory\n\n"
        'recipe = Recipe("numbered")\nmore = recipe.add(AuthorFactory, 2, step_name=7)\n'
    )
    project = write_project(tmp_path / "p", {"numbered": recipe})
    result = cli("plan", "numbered", "--recipes", str(project / "seeds"))
    assert result.exit_code == 2 and "step_name must be a non-empty string, got 7" in result.stderr


def test_one_broken_recipe_module_hides_no_other(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p", {"broken": "import no_such_module\n"})
    seeds = str(project / "seeds")
    listing = cli_json("list", "--recipes", seeds)
    by_name = {r["name"]: r for r in listing}
    assert by_name["library"]["error"] is None and "No module named 'no_such_module'" in by_name["broken"]["error"]
    assert "library" in cli("list", "--recipes", seeds).stdout
    ok = cli("run", "library", "--database-url", sqlite_url, *cli_options(project))
    assert ok.exit_code == 0, ok.output
    unknown = cli("run", "librari", "--recipes", seeds, "--database-url", sqlite_url)
    assert unknown.exit_code == 2
    assert "Did you mean 'library'?" in unknown.stderr and "no_such_module" not in unknown.stderr


def test_recipes_import_the_projects_own_packages(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p")
    package = project / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sizes.py").write_text("AUTHORS = 4\n")
    (project / "seeds" / "own.py").write_text(
        "from app.sizes import AUTHORS\nfrom seedkit import Recipe\n"
        "from .library_factories import AuthorFactory\n\n"
        'recipe = Recipe("sized by the project")\nauthors = recipe.add(AuthorFactory, AUTHORS)\n'
    )
    env_url = {"SEEDKIT_DATABASE_URL": sqlite_url}
    result = seedkit_process("run", "own", "--json", cwd=project, env=env_url)
    assert result.returncode == 0, result.stderr
    assert '"authors": 4' in result.stdout


def test_quiet_means_quiet_even_when_env_py_logs(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p")
    ini = project / "db" / "alembic.ini"
    ini.write_text(ini.read_text() + LOGGING_INI)
    env = project / "db" / "migrations" / "env.py"
    env.write_text(
        "from logging.config import fileConfig\nfrom alembic import context\n"
        "fileConfig(context.config.config_file_name)\n" + env.read_text()
    )
    noisy = seedkit_process("run", "library", "--database-url", sqlite_url, cwd=project)
    assert noisy.returncode == 0 and "Running upgrade" in noisy.stderr
    again = f"sqlite:///{tmp_path / 'quiet.db'}"
    quiet = seedkit_process("run", "library", "-q", "--database-url", again, cwd=project)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == ""


LOGGING_INI = """
[loggers]
keys = root,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""


def test_version_help_and_completion_load_no_database_libraries():
    program = (
        "import sys\nsys.argv = ['seedkit', '--help']\nfrom seedkit.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'sqlalchemy', 'alembic', 'faker', 'factory', 'psycopg'} & set(sys.modules)\n"
        "print('HEAVY', sorted(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    plan = (
        "import sys\nsys.argv = ['seedkit', 'plan', 'demo']\nfrom seedkit.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted({'alembic', 'psycopg'} & set(sys.modules)))\n"
    )
    planned = subprocess.run([sys.executable, "-c", plan], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in planned.stdout, planned.stdout + planned.stderr
    version = seedkit_process("--version")
    assert version.returncode == 0 and version.stdout.startswith("seedkit ")
    assert "--install-completion" in seedkit_process("--help").stdout


def test_the_report_title_is_the_command_as_run(sqlite_url):
    result = cli("run", "tiny", "--seed", "3", "--scale", "2", "--database-url", sqlite_url)
    assert "seedkit run tiny --seed 3 --scale 2" in result.stdout
    again = cli("run", "tiny", "--seed", "3", "--truncate", "--yes", "--database-url", sqlite_url)
    assert "seedkit run tiny --seed 3 --truncate" in again.stdout
    reset = cli("reset", "tiny", "--seed", "4", "--yes", "--database-url", sqlite_url)
    assert "seedkit reset tiny --seed 4" in reset.stdout


def test_status_compares_the_revision_with_the_migrations_head(sqlite_url):
    assert cli("run", "tiny", "--database-url", sqlite_url).exit_code == 0
    status = cli_json("status", "--database-url", sqlite_url)
    assert status["revision"] == status["head"] == "0001"
    assert "(up to date)" in cli("status", "--database-url", sqlite_url).stdout
