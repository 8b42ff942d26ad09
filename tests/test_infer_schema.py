"""The whole schema, no files: seedkit run --infer seeds every table as the database describes it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from seedkit.generate import _distinct_picks
from tests.conftest import cli, cli_json, fingerprint_of

# A schema made by plain SQL (no models, no migrations): a parent chain, a junction table whose
# key is the pair, a nullable self-reference, unique and length-limited columns.
SCHEMA = [
    """CREATE TABLE authors (
        id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL UNIQUE, full_name VARCHAR(60) NOT NULL, born DATE)""",
    """CREATE TABLE posts (
        id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id),
        title VARCHAR(80) NOT NULL, body TEXT, views INTEGER NOT NULL)""",
    "CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(30) NOT NULL UNIQUE)",
    """CREATE TABLE post_tags (
        post_id INTEGER NOT NULL REFERENCES posts (id), tag_id INTEGER NOT NULL REFERENCES tags (id),
        PRIMARY KEY (post_id, tag_id))""",
    """CREATE TABLE comments (
        id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts (id),
        reply_to_id INTEGER REFERENCES comments (id), body TEXT NOT NULL)""",
]


def _create(url: str, statements: list[str] = SCHEMA) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


def _infer(url: str, *extra: str) -> dict:
    return cli_json("run", "--infer", "--no-migrate", "--seed", "11", *extra, "--database-url", url)


def test_a_schema_made_by_plain_sql_is_seeded_whole_and_the_same_twice(db_url, another_db):
    second = another_db(db_url)
    for url in (db_url, second):
        _create(url)
    report = _infer(db_url, "--rows", "40")
    assert set(report["tables"]) == {"authors", "posts", "tags", "post_tags", "comments"}
    assert report["tables"]["authors"] == report["tables"]["tags"] == 40
    assert _infer(second, "--rows", "40")["fingerprint"] == report["fingerprint"]
    assert fingerprint_of(second) == fingerprint_of(db_url)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        pairs = conn.execute(text("SELECT post_id, tag_id FROM post_tags")).all()
        emails = conn.execute(text("SELECT email FROM authors")).scalars().all()
        titles = conn.execute(text("SELECT title FROM posts")).scalars().all()
    engine.dispose()
    assert len(pairs) == len(set(pairs)) == report["tables"]["post_tags"] > 0
    assert all("@" in e for e in emails) and len(set(emails)) == len(emails)
    assert all(0 < len(t) <= 80 for t in titles)


def test_plan_infer_reads_the_schema_without_writing(sqlite_url):
    _create(sqlite_url)
    result = cli("plan", "--infer", "--rows", "10", "--json", "--database-url", sqlite_url)
    assert result.exit_code == 0, result.output
    steps = {s["name"]: s for s in json.loads(result.stdout)["steps"]}
    assert steps["authors"]["size"] == "10" and steps["posts"]["depends_on"] == ["authors"]
    assert steps["post_tags"]["depends_on"] == ["posts", "tags"]
    assert fingerprint_of(sqlite_url)["tables"]["authors"]["rows"] == 0


def test_a_required_key_pointing_back_is_refused_naming_the_table(sqlite_url):
    _create(
        sqlite_url, ["CREATE TABLE nodes (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES nodes (id))"]
    )
    result = cli("run", "--infer", "--no-migrate", "--database-url", sqlite_url)
    assert result.exit_code == 2
    assert "Cannot infer nodes: its NOT NULL parent_id points at itself" in result.stderr


def test_a_recipe_name_and_infer_exclude_each_other(sqlite_url):
    assert cli("run", "demo", "--infer", "--database-url", sqlite_url).exit_code == 2
    assert cli("run", "demo", "--rows", "5", "--database-url", sqlite_url).exit_code == 2


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_distinct_picks_continue_across_a_chunk_boundary(cut):
    pool = [(i,) for i in range(8)]
    parents = [("a",)] * 4 + [("b",)] * 3  # one object per parent, repeated per child, as a chunk holds them
    whole = _distinct_picks(pool, 5, parents, 0)
    split = _distinct_picks(pool, 5, parents[:cut], 0) + _distinct_picks(pool, 5, parents[cut:], cut)
    assert split == whole and len(set(whole[:4])) == 4 and len(set(whole[4:])) == 3
    assert whole != _distinct_picks(pool, 6, parents, 0)  # another seed, other picks


def test_distinct_needs_a_parent_and_something_to_pick():
    from recipes.factories import OrderFactory, OrderItemFactory, UserFactory
    from seedkit import Recipe, RecipeError
    from seedkit.resolved import resolve

    recipe = Recipe(name="bad")
    users = recipe.add(UserFactory, 5)
    orders = recipe.add(OrderFactory, per=users, count=1)
    recipe.add(OrderItemFactory, per=orders, count=1, distinct=True)
    with pytest.raises(RecipeError, match="distinct=True needs per= .* and refs="):
        resolve(recipe)


def _cycle_schema(key: str) -> list[str]:
    return [
        f"CREATE TABLE departments (id {key} PRIMARY KEY, name VARCHAR(80) NOT NULL, manager_id INTEGER)",
        f"""CREATE TABLE employees (
            id {key} PRIMARY KEY, department_id INTEGER NOT NULL REFERENCES departments (id),
            mentor_id INTEGER REFERENCES employees (id), full_name VARCHAR(80) NOT NULL)""",
        "ALTER TABLE departments ADD CONSTRAINT fk_manager FOREIGN KEY (manager_id) REFERENCES employees (id)",
    ]


def test_trees_and_cycles_are_filled_after_in_the_same_transaction(db_url, another_db, tmp_path):
    key = "INTEGER" if db_url.startswith("sqlite") else "SERIAL"
    statements = _cycle_schema(key)
    if db_url.startswith("sqlite"):  # SQLite cannot add a foreign key to a table: declare it at once
        statements = [
            f"CREATE TABLE departments (id {key} PRIMARY KEY, name VARCHAR(80) NOT NULL, "
            "manager_id INTEGER REFERENCES employees (id))",
            statements[1],
        ]
    twin = another_db(db_url)
    for url in (db_url, twin):
        _create(url, statements)
    report = _infer(db_url, "--rows", "60")
    assert report["tables"]["departments"] == 60 and report["tables"]["employees"] > 60

    engine = create_engine(db_url)
    with engine.connect() as conn:
        managers = conn.execute(
            text("SELECT d.manager_id, e.id FROM departments d LEFT JOIN employees e ON e.id = d.manager_id")
        ).all()
        mentors = conn.execute(text("SELECT id, mentor_id FROM employees ORDER BY id")).all()
    engine.dispose()
    assert all(m is not None and e == m for m, e in managers)  # every department has a manager who exists
    assert mentors[0].mentor_id is None  # the first row is a root
    assert all(r.mentor_id is None or r.mentor_id < r.id for r in mentors)  # a row's parent is an earlier row
    with_mentor = sum(r.mentor_id is not None for r in mentors) / len(mentors)
    assert 0.6 < with_mentor < 0.9, with_mentor
    assert _infer(twin, "--rows", "60")["fingerprint"] == report["fingerprint"] == fingerprint_of(db_url)["overall"]

    third = another_db(db_url)
    _create(third, statements)
    folder = tmp_path / "recipes"
    assert cli("scaffold", "--out", str(folder), "--rows", "60", "--database-url", db_url).exit_code == 0
    assert 'recipe.fill_later(employees, "mentor", employees)' in (folder / "inferred.py").read_text()
    scaffolded = cli_json(
        "run", "inferred", "--recipes", str(folder), "--no-migrate", "--seed", "11", "--database-url", third
    )
    assert scaffolded["fingerprint"] == report["fingerprint"]
