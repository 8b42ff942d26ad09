"""Generating on a Dask cluster (a LocalCluster here): the same rows, written by one transaction."""

from __future__ import annotations

import pytest
from distributed import Client, LocalCluster

import seedkit
from seedkit import cluster
from tests.conftest import cli, cli_json, fingerprint_of

SCALE = "120"  # 6,000 users: every step of the demo spans several 5,000-row chunks


@pytest.fixture(scope="module")
def scheduler():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        with Client(local, set_as_default=False) as client:
            yield client


def test_a_run_on_a_cluster_writes_what_one_process_writes(scheduler, tmp_path):
    alone = cli_json("run", "demo", "--seed", "7", "--scale", SCALE, "--database-url", f"sqlite:///{tmp_path}/a.db")
    spread = cli_json(
        "run", "demo", "--seed", "7", "--scale", SCALE, "--dask", scheduler.scheduler.address,
        "--database-url", f"sqlite:///{tmp_path}/b.db",
    )  # fmt: skip
    assert spread["executor"] == "distributed" and spread["workers"] == 2
    assert spread["tables"]["order_items"] > 3 * 5000
    assert spread["fingerprint"] == alone["fingerprint"]
    assert fingerprint_of(f"sqlite:///{tmp_path}/b.db") == fingerprint_of(f"sqlite:///{tmp_path}/a.db")


def test_seed_into_generates_on_an_executor_inside_the_callers_transaction(scheduler, pg_url, sqlite_url):
    plain = seedkit.run("demo", settings=seedkit.load_settings(database_url=sqlite_url), seed=3, scale=30)
    settings = seedkit.load_settings(database_url=pg_url)
    seedkit.migrate(settings)
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_url)
    with engine.connect() as conn, conn.begin():
        report = seedkit.seed_into(
            conn, "demo", seed=3, scale=30, settings=settings, executor=scheduler.get_executor(), workers=2
        )
        assert report.fingerprint == plain.fingerprint and report.tables == plain.tables
        conn.rollback()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 0
    engine.dispose()


def test_a_recipe_built_in_code_cannot_travel(scheduler, sqlite_url):
    recipe = seedkit.Recipe(name="inline")
    from recipes.factories import UserFactory

    recipe.add(UserFactory, 10)
    settings = seedkit.load_settings(database_url=sqlite_url)
    with pytest.raises(seedkit.UsageError, match="recipes folder"):
        seedkit.run(recipe, settings=settings, executor=scheduler.get_executor())


def test_an_unreachable_scheduler_is_one_clear_error_and_nothing_is_written(monkeypatch, sqlite_url, tmp_path):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 0.5)
    result = cli("run", "demo", "--dask", "tcp://127.0.0.1:9", "--database-url", sqlite_url)
    assert result.exit_code == 1
    assert "Could not reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
    assert not list(tmp_path.glob("*.db"))


def test_dask_and_workers_exclude_each_other(sqlite_url):
    result = cli("run", "demo", "--dask", "tcp://127.0.0.1:9", "--workers", "2", "--database-url", sqlite_url)
    assert result.exit_code == 2 and "exclude each other" in result.stderr
