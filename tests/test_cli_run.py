"""``seedkit run``: the quick start, the report, and what happens on a target holding data."""

from __future__ import annotations

import shutil

from sqlalchemy import create_engine, text

from tests.conftest import ROOT, cli, cli_json, fingerprint_of


def _rows(url: str, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return count


def test_run_demo_prints_counts_per_table(db_url):
    result = cli("run", "demo", "--seed", "42", "--database-url", db_url)
    assert result.exit_code == 0, result.output
    for table in ("users", "products", "orders", "order_items", "projects", "tasks"):
        assert table in result.stdout
    assert "seed 42" in result.stdout
    assert "total" in result.stdout
    assert _rows(db_url, "users") == 58  # 50 users, 5 admins, 3 suspended
    assert _rows(db_url, "products") == 20


def test_run_json_keys_match_the_database(db_url):
    report = cli_json("run", "demo", "--seed", "7", "--database-url", db_url)
    assert {"recipe", "seed", "tables", "total_rows", "seconds"} <= set(report)
    assert report["recipe"] == "demo" and report["seed"] == 7
    assert report["total_rows"] == sum(report["tables"].values())
    for table, rows in report["tables"].items():
        assert _rows(db_url, table) == rows
    assert report["fingerprint"] == fingerprint_of(db_url)["overall"]


def test_per_parent_counts_respect_their_range(db_url):
    cli_json("run", "demo", "--seed", "3", "--database-url", db_url)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        per_user = (
            conn.execute(
                text(
                    "SELECT count(o.id) FROM users u LEFT JOIN orders o ON o.user_id = u.id "
                    "WHERE u.is_admin = false AND u.is_active = true GROUP BY u.id"
                )
            )
            .scalars()
            .all()
        )
        per_order = conn.execute(text("SELECT count(*) FROM order_items GROUP BY order_id")).scalars().all()
        mismatched_prices = conn.execute(
            text(
                "SELECT count(*) FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.unit_price <> p.price"
            )
        ).scalar_one()
        admins = conn.execute(text("SELECT count(*) FROM users WHERE is_admin = true")).scalar_one()
        suspended = conn.execute(
            text("SELECT count(*) FROM users WHERE is_active = false AND suspended_at IS NOT NULL")
        ).scalar_one()
    engine.dispose()
    assert set(per_user) <= set(range(0, 6)) and len(set(per_user)) > 1
    assert set(per_order) <= {1, 2, 3, 4}
    assert mismatched_prices == 0
    assert admins == 5 and suspended == 3


def test_non_empty_target_is_refused_and_left_alone(db_url):
    cli("run", "tiny", "--seed", "1", "--database-url", db_url)
    before = fingerprint_of(db_url)
    result = cli("run", "tiny", "--seed", "2", "--database-url", db_url)
    assert result.exit_code == 2
    assert "--truncate" in result.stderr and "seedkit reset" in result.stderr
    assert fingerprint_of(db_url) == before


def test_append_adds_rows_with_fresh_ids_and_unique_values(db_url):
    first = cli_json("run", "tiny", "--seed", "1", "--database-url", db_url)
    second = cli_json("run", "tiny", "--seed", "1", "--append", "--database-url", db_url)
    assert second["tables"] == first["tables"]
    assert _rows(db_url, "users") == 2 * first["tables"]["users"]


def test_truncate_needs_confirmation_without_a_terminal(db_url):
    cli("run", "tiny", "--seed", "1", "--database-url", db_url)
    before = fingerprint_of(db_url)
    refused = cli("run", "tiny", "--seed", "2", "--truncate", "--database-url", db_url)
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert fingerprint_of(db_url) == before
    done = cli("run", "tiny", "--seed", "1", "--truncate", "--yes", "--database-url", db_url)
    assert done.exit_code == 0, done.output
    assert fingerprint_of(db_url)["tables"]["users"]["rows"] == before["tables"]["users"]["rows"]


def test_scale_multiplies_batch_sizes(sqlite_url):
    report = cli_json("run", "demo", "--seed", "1", "--scale", "2", "--database-url", sqlite_url)
    assert report["tables"]["users"] == 116
    assert report["tables"]["products"] == 40


def test_scale_1000_keeps_unique_columns_unique(pg_url):
    # 58,000 users: Faker's email space repeats itself here; the tags keep every email unique.
    report = cli_json("run", "demo", "--seed", "5", "--scale", "1000", "-q", "--database-url", pg_url)
    assert report["tables"]["users"] == 58_000
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        emails, skus = conn.execute(
            text("SELECT count(DISTINCT email), (SELECT count(DISTINCT sku) FROM products) FROM users")
        ).one()
        tagged = conn.execute(text("SELECT count(*) FROM users WHERE email LIKE '%+%@%'")).scalar_one()
    engine.dispose()
    assert emails == 58_000 and skus == report["tables"]["products"]
    assert 0 < tagged < 0.1 * 58_000


def test_quiet_prints_nothing(sqlite_url):
    result = cli("run", "tiny", "-q", "--database-url", sqlite_url)
    assert result.exit_code == 0 and result.stdout == ""


def test_no_migrate_on_an_empty_database_explains(sqlite_url):
    result = cli("run", "tiny", "--no-migrate", "--database-url", sqlite_url)
    assert result.exit_code == 2
    assert "do not exist" in result.stderr


def test_seed_must_be_an_integer(sqlite_url):
    result = cli("run", "tiny", "--seed", "abc", "--database-url", sqlite_url)
    assert result.exit_code == 2
    assert "--seed" in result.output and "integer" in result.output


def test_scale_must_be_positive(sqlite_url):
    for bad in ("0", "-1"):
        result = cli("run", "tiny", "--scale", bad, "--database-url", sqlite_url)
        assert result.exit_code == 2
        assert "--scale" in result.stderr


COLLIDING_TITLES = """
import factory
from seedkit import Recipe
from .factories import ProjectFactory, TaskFactory

recipe = Recipe("titles that repeat within each project")
projects = recipe.add(ProjectFactory, 3)
tasks = recipe.add(TaskFactory, per=projects, count=4, title=factory.Iterator(["Plan", "Ship it"]))
"""


def test_unique_together_values_are_tagged_within_their_parent(tmp_path, db_url):
    folder = tmp_path / "recipes"
    shutil.copytree(ROOT / "recipes", folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "colliding.py").write_text(COLLIDING_TITLES)
    report = cli_json("run", "colliding", "--recipes", str(folder), "--database-url", db_url)
    assert report["tables"]["tasks"] == 12
    engine = create_engine(db_url)
    with engine.connect() as conn:
        titles = conn.execute(text("SELECT project_id, title FROM tasks ORDER BY id")).all()
    engine.dispose()
    by_project: dict[int, set[str]] = {}
    for project_id, title in titles:
        by_project.setdefault(project_id, set()).add(title)
    assert list(by_project.values()) == [{"Plan", "Ship it", "Plan2", "Ship it 2"}] * 3
