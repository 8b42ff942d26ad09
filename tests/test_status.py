"""Every run records itself; `seedkit status` tells what the database holds and when it was seeded."""

from __future__ import annotations

import json
import shutil
import warnings

from sqlalchemy import create_engine, text

from tests.conftest import ROOT, cli, cli_json, fingerprint_of


def test_status_shows_the_last_run(db_url):
    assert cli("migrate", "--database-url", db_url).exit_code == 0
    empty = cli_json("status", "--database-url", db_url)
    assert empty["last_run"] is None and empty["unchanged_since_last_run"] is None
    report = cli_json("run", "demo", "--seed", "42", "--database-url", db_url)
    status = cli_json("status", "--database-url", db_url)
    last = status["last_run"]
    assert (last["recipe"], last["seed"], last["scale"]) == ("demo", 42, 1.0)
    assert last["fingerprint"] == report["fingerprint"] == fingerprint_of(db_url)["overall"]
    assert last["faker_version"] and last["seedkit_version"]
    assert last["started_at"] <= last["finished_at"]
    assert status["tables"]["users"] == 58
    assert status["revision"] == "0001"
    assert status["unchanged_since_last_run"] is True
    shown = cli("status", "--database-url", db_url)
    assert shown.exit_code == 0 and "recipe demo, seed 42" in shown.stdout and "unchanged" in shown.stdout

    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET name = 'Someone Else' WHERE id = 1"))
    engine.dispose()
    assert cli_json("status", "--database-url", db_url)["unchanged_since_last_run"] is False
    assert "has changed" in cli("status", "--database-url", db_url).stdout


def _recorded_runs(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM seedkit_runs")).scalar_one()
    engine.dispose()
    return count


def test_only_successful_seeds_are_recorded(db_url):
    assert cli("run", "tiny", "--database-url", db_url).exit_code == 0
    assert cli("run", "tiny", "--database-url", db_url).exit_code == 2  # refused: not empty
    assert cli_json("run", "tiny", "--if-empty", "--database-url", db_url)["status"] == "skipped"
    assert _recorded_runs(db_url) == 1


def test_a_rerun_that_yields_different_data_is_flagged(tmp_path, db_url):
    edited = tmp_path / "recipes"
    shutil.copytree(ROOT / "recipes", edited, ignore=shutil.ignore_patterns("__pycache__"))
    factories = edited / "factories.py"
    factories.write_text(factories.read_text().replace('factory.Faker("catch_phrase")', 'factory.Faker("bs")'))

    first = cli_json("run", "tiny", "--seed", "3", "--database-url", db_url)
    same = cli("reset", "tiny", "--seed", "3", "--yes", "--json", "--database-url", db_url)
    assert json.loads(same.stdout)["previous_fingerprint"] is None
    changed = cli("reset", "tiny", "--seed", "3", "--yes", "--recipes", str(edited), "--database-url", db_url)
    assert changed.exit_code == 0
    assert "data differs" in changed.stdout and first["fingerprint"] in changed.stdout


def test_appended_data_is_no_false_drift(db_url):
    assert cli("run", "tiny", "--seed", "3", "--database-url", db_url).exit_code == 0
    appended = cli_json("run", "tiny", "--seed", "3", "--append", "--database-url", db_url)
    assert appended["previous_fingerprint"] is None
    again = cli("run", "tiny", "--seed", "3", "--truncate", "--yes", "--json", "--database-url", db_url)
    assert again.exit_code == 0 and json.loads(again.stdout)["previous_fingerprint"] is None
    assert "data differs" not in cli("reset", "tiny", "--seed", "3", "--yes", "--database-url", db_url).stdout


def test_runs_recorded_by_an_earlier_seedkit_are_read_and_extended(db_url):
    assert cli("run", "tiny", "--seed", "3", "--database-url", db_url).exit_code == 0
    engine = create_engine(db_url)
    with engine.begin() as conn:  # as an earlier seedkit left the table: no from_empty column
        conn.execute(text("ALTER TABLE seedkit_runs DROP COLUMN from_empty"))
    engine.dispose()
    assert cli_json("status", "--database-url", db_url)["last_run"]["from_empty"] is None
    rerun = cli_json("run", "tiny", "--seed", "3", "--truncate", "--yes", "--database-url", db_url)
    assert rerun["previous_fingerprint"] is None
    assert cli_json("status", "--database-url", db_url)["last_run"]["from_empty"] is True


def test_a_fingerprint_of_an_older_format_is_not_called_drift(db_url):
    assert cli("run", "tiny", "--seed", "3", "--database-url", db_url).exit_code == 0
    with create_engine(db_url).begin() as conn:  # as seedkit recorded runs before fingerprint format 2
        conn.execute(text("UPDATE seedkit_runs SET fingerprint = :old, fingerprint_format = NULL"), {"old": "a" * 64})
    status = cli_json("status", "--database-url", db_url)
    assert status["unchanged_since_last_run"] is None
    assert status["fingerprint_format"] == 2
    shown = cli("status", "--database-url", db_url)
    assert "older format" in shown.output and "changed since that run" not in shown.output
    rerun = cli_json("run", "tiny", "--seed", "3", "--truncate", "--yes", "--database-url", db_url)
    assert rerun["previous_fingerprint"] is None  # not compared with the old format's
    assert cli_json("status", "--database-url", db_url)["unchanged_since_last_run"] is True


def test_an_index_on_an_expression_is_no_warning(db_url):
    # SQLAlchemy cannot reflect such an index; status and fingerprint read no index anyway.
    assert cli("run", "tiny", "--seed", "1", "--database-url", db_url).exit_code == 0
    with create_engine(db_url).begin() as conn:
        conn.execute(text("CREATE INDEX ix_users_email_lower ON users (lower(email))"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for command in ("status", "fingerprint"):
            assert cli(command, "--database-url", db_url).exit_code == 0
    assert not [w for w in caught if "expression-based index" in str(w.message)]
