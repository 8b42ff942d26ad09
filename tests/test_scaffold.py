"""seedkit scaffold: the recipe --infer runs, written as code that seeds the same data and that a
project's linters accept as it is."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import create_engine

from tests.conftest import ROOT, cli, cli_json, fingerprint_of, seedkit_process

# Plain SQL with what the writer must render: a self-reference, a junction table keyed by its
# pair, a composite unique, a table without a primary key, server defaults, an index.
SCHEMA = [
    """CREATE TABLE authors (
        id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL UNIQUE, full_name VARCHAR(60) NOT NULL,
        born DATE, active BOOLEAN NOT NULL DEFAULT TRUE, rating NUMERIC(4, 2))""",
    """CREATE TABLE posts (
        id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id),
        title VARCHAR(80) NOT NULL, slug VARCHAR(200) NOT NULL, views INTEGER NOT NULL,
        created_at TIMESTAMP NOT NULL, UNIQUE (author_id, slug))""",
    "CREATE INDEX ix_posts_created_at ON posts (created_at)",
    "CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(30) NOT NULL UNIQUE)",
    """CREATE TABLE post_tags (
        post_id INTEGER NOT NULL REFERENCES posts (id), tag_id INTEGER NOT NULL REFERENCES tags (id),
        PRIMARY KEY (post_id, tag_id))""",
    """CREATE TABLE comments (
        id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts (id),
        reply_to_id INTEGER REFERENCES comments (id), body TEXT NOT NULL)""",
    "CREATE TABLE page_views (path VARCHAR(200) NOT NULL, seen_at TIMESTAMP NOT NULL)",
]


def _create(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in SCHEMA:
            conn.exec_driver_sql(statement)
    engine.dispose()


def _ruff(*args: str, folder) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--isolated", str(folder)], capture_output=True, text=True
    )


def test_the_scaffolded_recipe_seeds_what_infer_seeds(db_url, another_db, tmp_path):
    twin = another_db(db_url)
    for url in (db_url, twin):
        _create(url)
    folder = tmp_path / "recipes"
    written = cli("scaffold", "--out", str(folder), "--rows", "25", "--database-url", db_url)
    assert written.exit_code == 0, written.output
    assert sorted(p.name for p in folder.iterdir()) == ["inferred.py", "inferred_factories.py", "inferred_models.py"]

    inferred = cli_json("run", "--infer", "--rows", "25", "--no-migrate", "--seed", "5", "--database-url", db_url)
    scaffolded = cli_json(
        "run", "inferred", "--recipes", str(folder), "--no-migrate", "--seed", "5", "--database-url", twin
    )
    assert scaffolded["tables"] == inferred["tables"] and len(inferred["tables"]) == 6
    assert scaffolded["fingerprint"] == inferred["fingerprint"]
    assert fingerprint_of(twin) == fingerprint_of(db_url)

    lint = _ruff("check", "--select", "E,F,W,I,B,UP", folder=folder)
    assert lint.returncode == 0, lint.stdout
    formatted = _ruff("format", "--check", "--diff", folder=folder)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_the_demo_schema_scaffolds_into_ordinary_code(db_url, another_db, tmp_path):
    sqlite_url = db_url  # the demo's migrations, on either backend
    twin = another_db(sqlite_url)
    for url in (sqlite_url, twin):
        cli("migrate", "-q", "--database-url", url)
    folder = tmp_path / "recipes"
    assert cli("scaffold", "--out", str(folder), "--database-url", sqlite_url).exit_code == 0
    factories = (folder / "inferred_factories.py").read_text()
    assert "class UsersFactory(factory.alchemy.SQLAlchemyModelFactory):" in factories
    assert 'email = factory.Faker("email")' in factories
    recipe = (folder / "inferred.py").read_text()
    assert 'refs={"product": products}' in recipe and "count=between(0, 5)" in recipe
    inferred = cli_json("run", "--infer", "--no-migrate", "--database-url", sqlite_url)
    scaffolded = cli_json("run", "inferred", "--recipes", str(folder), "--no-migrate", "--database-url", twin)
    assert scaffolded["fingerprint"] == inferred["fingerprint"]
    planned = cli("plan", "inferred", "--recipes", str(folder))
    assert planned.exit_code == 0 and "order_items" in planned.stdout


def test_existing_files_are_not_overwritten_without_force(sqlite_url, tmp_path):
    _create(sqlite_url)
    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "inferred.py").write_text("# mine\n")
    refused = cli("scaffold", "--out", str(folder), "--database-url", sqlite_url)
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert (folder / "inferred.py").read_text() == "# mine\n"
    assert cli("scaffold", "--out", str(folder), "--force", "--database-url", sqlite_url).exit_code == 0
    assert "recipe = Recipe(" in (folder / "inferred.py").read_text()


@pytest.mark.parametrize("name", ["shop-2", "class"])
def test_a_name_must_be_a_module_name(sqlite_url, tmp_path, name):
    result = cli("scaffold", "--out", str(tmp_path), "--name", name, "--database-url", sqlite_url)
    assert result.exit_code == 2 and "--name" in result.stderr


HAND_WRITTEN = """
from seedkit import Recipe, between

from app.models import Order, OrderItem, Product, Project, Task, User

recipe = Recipe("the same steps, with models instead of factories")
products = recipe.add(Product, 20, step_name="products")
projects = recipe.add(Project, 20, step_name="projects")
users = recipe.add(User, 20, step_name="users")
orders = recipe.add(Order, per=users, count=between(0, 5), step_name="orders")
tasks = recipe.add(Task, per=projects, count=between(0, 5), step_name="tasks")
order_items = recipe.add(OrderItem, per=orders, count=between(0, 5), step_name="order_items")
"""

ENV_PY = """
from alembic import context
from sqlalchemy import engine_from_config, pool

from app.models import Base

config = context.config
target_metadata = Base.metadata
engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
"""


@pytest.fixture
def app_project(tmp_path):
    """A project of its own: the demo's models as app/models.py, an Alembic folder, no recipes."""
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "app" / "__init__.py").write_text("")
    (project / "app" / "models.py").write_text((ROOT / "recipes" / "models.py").read_text())
    (project / "migrations" / "versions").mkdir(parents=True)
    (project / "migrations" / "env.py").write_text(ENV_PY)
    return project


def _tables(url: str, project) -> None:
    sys.path.insert(0, str(project))
    try:
        from app.models import Base

        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
    finally:
        sys.path.remove(str(project))
        for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
            del sys.modules[name]


def test_scaffolded_factories_for_models_seed_what_recipe_add_model_seeds(app_project, tmp_path):
    scaffolded = seedkit_process("scaffold", "--models", "app.models", "--out", "recipes", "--rows", "20",
                                 "--name", "starter", cwd=app_project)  # fmt: skip
    assert scaffolded.returncode == 0, scaffolded.stderr
    hand = app_project / "hand"
    hand.mkdir()
    (hand / "starter.py").write_text(HAND_WRITTEN)
    reports = []
    for folder, name in (("recipes", "a.db"), ("hand", "b.db")):
        url = f"sqlite:///{tmp_path / name}"
        _tables(url, app_project)
        run = seedkit_process("run", "starter", "--recipes", folder, "--no-migrate", "--json", "--database-url", url,
                              cwd=app_project)  # fmt: skip
        assert run.returncode == 0, run.stderr
        reports.append(json.loads(run.stdout))
    assert reports[0]["tables"] == reports[1]["tables"] and reports[0]["fingerprint"] == reports[1]["fingerprint"]
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select", "E,F,W,I,B,UP",
                           "recipes"], cwd=app_project, capture_output=True, text=True)  # fmt: skip
    assert lint.returncode == 0, lint.stdout


def test_init_finds_the_models_env_py_names_and_shows_what_env_py_lacks(app_project):
    result = seedkit_process("init", cwd=app_project)
    assert result.returncode == 0, result.stderr
    assert "models: app.models (from target_metadata in" in result.stdout
    assert (app_project / "recipes" / "starter.py").is_file()
    assert "ignores seedkit's connection" in result.stdout and 'config.attributes.get("connection")' in result.stdout

    env_py = app_project / "migrations" / "env.py"
    shared = 'connection = config.attributes.get("connection")\nif True:'
    env_py.write_text(env_py.read_text().replace("with engine.connect() as connection:", shared))
    again = seedkit_process("init", "--force", cwd=app_project)
    assert again.returncode == 0 and "migrates on seedkit's connection" in again.stdout


def test_init_searches_for_models_when_env_py_names_none(app_project):
    (app_project / "migrations" / "env.py").unlink()
    result = seedkit_process("init", "--alembic-config", "nowhere", cwd=app_project)
    assert result.returncode == 0, result.stderr
    assert "models: app.models (from a search of" in result.stdout
    assert "No Alembic env.py found" in result.stdout
