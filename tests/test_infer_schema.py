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
        for statement in statements:  # on the driver: a % in the SQL is no placeholder
            conn.connection.driver_connection.execute(statement)
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


PARTITIONED = [
    "CREATE TABLE customers (id serial PRIMARY KEY, email varchar(120) NOT NULL UNIQUE)",
    """CREATE TABLE events (
        id bigserial, customer_id integer NOT NULL REFERENCES customers (id), happened_at timestamptz NOT NULL,
        kind varchar(20) NOT NULL, PRIMARY KEY (id, happened_at)) PARTITION BY RANGE (happened_at)""",
    "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    """CREATE TABLE shops (id serial, region char(2) NOT NULL CHECK (region IN ('eu', 'us')), name text NOT NULL,
        PRIMARY KEY (id, region)) PARTITION BY LIST (region)""",
    "CREATE TABLE shops_eu PARTITION OF shops FOR VALUES IN ('eu')",
    "CREATE TABLE shops_us PARTITION OF shops FOR VALUES IN ('us')",
    """CREATE TABLE stock (
        shop_id integer NOT NULL, region char(2) NOT NULL, sku varchar(12) NOT NULL, quantity integer NOT NULL,
        PRIMARY KEY (shop_id, region, sku), FOREIGN KEY (shop_id, region) REFERENCES shops (id, region))""",
]


def test_partitioned_tables_and_composite_foreign_keys(pg_url, another_db, tmp_path):
    twin, third = another_db(pg_url), another_db(pg_url)
    for url in (pg_url, twin, third):
        _create(url, PARTITIONED)
    report = _infer(pg_url, "--rows", "50")
    assert set(report["tables"]) == {"customers", "events", "shops", "stock"}  # partitions fill through parents
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        spread = dict(conn.execute(text("SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1")).all())
        regions = dict(conn.execute(text("SELECT tableoid::regclass::text, count(*) FROM shops GROUP BY 1")).all())
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM stock s LEFT JOIN shops p ON p.id = s.shop_id AND p.region = s.region WHERE p.id IS NULL"
            )
        ).scalar()
        sequence, highest = conn.execute(text("SELECT (SELECT last_value FROM shops_id_seq), max(id) FROM shops")).one()
    engine.dispose()
    assert set(spread) == {"events_2025", "events_2026"} and sum(spread.values()) == report["tables"]["events"]
    assert set(regions) == {"shops_eu", "shops_us"} and report["tables"]["stock"] > 0 and orphans == 0
    assert sequence == highest  # the serial inside the composite key moved past the keys seedkit wrote
    assert _infer(twin, "--rows", "50")["fingerprint"] == report["fingerprint"] == fingerprint_of(pg_url)["overall"]

    folder = tmp_path / "recipes"
    assert cli("scaffold", "--out", str(folder), "--rows", "50", "--database-url", pg_url).exit_code == 0
    scaffolded = cli_json(
        "run", "inferred", "--recipes", str(folder), "--no-migrate", "--seed", "11", "--database-url", third
    )
    assert scaffolded["fingerprint"] == report["fingerprint"]


def test_the_whole_hard_schema_is_seeded_from_plain_sql(pg_url, another_db, tmp_path):
    """Issue #14's schema at once: enums, a domain with a CHECK, other CHECKs, arrays, bytea, a
    tsvector a trigger maintains, a range-partitioned table, a self-reference, a foreign-key
    cycle, a junction table with a composite key, a view."""
    from tests.test_checks import PG_SCHEMA

    schema = [
        *PG_SCHEMA,
        *PARTITIONED,
        *_cycle_schema("SERIAL"),
        """CREATE TABLE people_shops (person_id integer NOT NULL REFERENCES people (id),
            shop_id integer NOT NULL, region char(2) NOT NULL, FOREIGN KEY (shop_id, region) REFERENCES shops (id, region),
            PRIMARY KEY (person_id, shop_id, region))""",
        "CREATE VIEW busy_customers AS SELECT customer_id, count(*) FROM events GROUP BY customer_id",
    ]
    twin, third = another_db(pg_url), another_db(pg_url)
    for url in (pg_url, twin, third):
        _create(url, schema)
    report = cli_json("run", "--infer", "--no-migrate", "--rows", "200", "--seed", "1", "--database-url", pg_url)
    tables = {"people", "customers", "events", "shops", "stock", "departments", "employees", "people_shops"}
    assert set(report["tables"]) == tables and all(report["tables"][t] > 0 for t in tables)
    again = cli_json("run", "--infer", "--no-migrate", "--rows", "200", "--seed", "1", "--database-url", twin)
    assert again["fingerprint"] == report["fingerprint"] == fingerprint_of(pg_url)["overall"]
    folder = tmp_path / "recipes"
    assert cli("scaffold", "--out", str(folder), "--rows", "200", "--database-url", pg_url).exit_code == 0
    scaffolded = cli_json(
        "run", "inferred", "--recipes", str(folder), "--no-migrate", "--seed", "1", "--database-url", third
    )
    assert scaffolded["fingerprint"] == report["fingerprint"]


def test_the_demo_schema_inferred_gives_one_fingerprint_on_both_backends(sqlite_url, pg_url):
    on_sqlite = cli_json("run", "--infer", "--rows", "40", "--database-url", sqlite_url)
    on_postgresql = cli_json("run", "--infer", "--rows", "40", "--database-url", pg_url)
    assert on_sqlite["tables"] == on_postgresql["tables"]
    assert on_sqlite["fingerprint"] == on_postgresql["fingerprint"]
