"""Same recipe + seed + seedkit version ⇒ the same data, in any process, on any day, on any backend."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import time_machine
from sqlalchemy import create_engine, text

import seedkit
from tests.conftest import ROOT, cli, cli_json, fingerprint_of, seedkit_process
from tests.library_project import cli_options, write_project


def _fingerprint_in_new_process(url: str, *args: str, cwd=ROOT) -> dict:
    seeded = seedkit_process("run", *args, "-q", "--database-url", url, cwd=cwd)
    assert seeded.returncode == 0, seeded.stderr
    printed = seedkit_process("fingerprint", "--json", "--database-url", url, cwd=cwd)
    assert printed.returncode == 0, printed.stderr
    return json.loads(printed.stdout)


def test_two_processes_two_databases_same_fingerprint(tmp_path, pg_url):
    first = _fingerprint_in_new_process(f"sqlite:///{tmp_path / 'a.db'}", "demo", "--seed", "42")
    second = _fingerprint_in_new_process(f"sqlite:///{tmp_path / 'b.db'}", "demo", "--seed", "42")
    on_postgres = _fingerprint_in_new_process(pg_url, "demo", "--seed", "42")
    assert first == second
    assert on_postgres == first, "SQLite and PostgreSQL hold different logical rows"
    assert first["tables"]["users"]["rows"] == 58


def test_a_different_seed_gives_different_data(tmp_path):
    a = cli_json("run", "demo", "--seed", "1", "--database-url", f"sqlite:///{tmp_path / 'a.db'}")
    b = cli_json("run", "demo", "--seed", "2", "--database-url", f"sqlite:///{tmp_path / 'b.db'}")
    assert a["fingerprint"] != b["fingerprint"]


def test_the_real_clock_does_not_matter_but_now_does(tmp_path):
    settings = seedkit.load_settings(database_url=f"sqlite:///{tmp_path / 'today.db'}")
    today = seedkit.run("demo", settings=settings, seed=9).fingerprint
    with time_machine.travel("2031-07-04 03:00:00+00:00", tick=True):
        later = seedkit.load_settings(database_url=f"sqlite:///{tmp_path / 'later.db'}")
        other_day = seedkit.run("demo", settings=later, seed=9).fingerprint
    moved = seedkit.load_settings(database_url=f"sqlite:///{tmp_path / 'moved.db'}")
    other_now = seedkit.run("demo", settings=moved, seed=9, now="2020-03-01T00:00:00").fingerprint
    assert today == other_day
    assert other_now != today
    engine = create_engine(moved.database_url)
    with engine.connect() as conn:
        newest = conn.execute(text("SELECT max(created_at) FROM users")).scalar_one()
    engine.dispose()
    assert str(newest) < "2020-03-01 00:00:01"


def test_sequences_restart_on_every_run(tmp_path):
    a = cli_json("run", "demo", "--seed", "4", "--database-url", f"sqlite:///{tmp_path / 'a.db'}")
    b = cli_json("run", "demo", "--seed", "4", "--database-url", f"sqlite:///{tmp_path / 'b.db'}")
    assert a["fingerprint"] == b["fingerprint"]
    engine = create_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with engine.connect() as conn:
        first_sku = conn.execute(text("SELECT sku FROM products ORDER BY id LIMIT 1")).scalar_one()
    engine.dispose()
    assert first_sku == "SKU-00000"


UUIDS = """
import uuid
import factory
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

recipe = Recipe("uuid4 and fuzzy values, which must be seeded too")
authors = recipe.add(AuthorFactory, 5, pen_name=factory.LazyFunction(lambda: uuid.uuid4().hex))
books = recipe.add(BookFactory, per=authors, count=2, title=factory.LazyFunction(lambda: str(uuid.uuid4())),
                   pages=factory.fuzzy.FuzzyInteger(1, 10**9))
"""


def test_uuid4_and_fuzzy_values_are_seeded_across_processes(tmp_path):
    project = write_project(tmp_path / "p", {"uuids": UUIDS})
    first = _fingerprint_in_new_process(f"sqlite:///{tmp_path / 'a.db'}", "uuids", "--seed", "3", cwd=project)
    second = _fingerprint_in_new_process(f"sqlite:///{tmp_path / 'b.db'}", "uuids", "--seed", "3", cwd=project)
    other = _fingerprint_in_new_process(f"sqlite:///{tmp_path / 'c.db'}", "uuids", "--seed", "4", cwd=project)
    assert first == second
    assert other["tables"]["books"]["hash"] != first["tables"]["books"]["hash"]


def test_editing_one_step_leaves_unrelated_steps_unchanged(tmp_path):
    edited = tmp_path / "recipes"
    shutil.copytree(ROOT / "recipes", edited, ignore=shutil.ignore_patterns("__pycache__"))
    demo = (edited / "demo.py").read_text()
    demo = demo.replace("recipe.add(ProductFactory, 20)", "recipe.add(ProductFactory, 25)")
    demo += '\nextra_users = recipe.add(UserFactory, 7, step_name="late_signups")\n'
    (edited / "demo.py").write_text(demo)

    original_url, edited_url = f"sqlite:///{tmp_path / 'o.db'}", f"sqlite:///{tmp_path / 'e.db'}"
    assert cli("run", "demo", "--seed", "42", "-q", "--database-url", original_url).exit_code == 0
    result = cli("run", "demo", "--seed", "42", "-q", "--recipes", str(edited), "--database-url", edited_url)
    assert result.exit_code == 0, result.output
    original, changed = fingerprint_of(original_url)["tables"], fingerprint_of(edited_url)["tables"]

    for untouched in ("orders", "projects", "tasks"):
        assert changed[untouched] == original[untouched], untouched
    assert changed["products"]["rows"] == 25
    assert changed["order_items"] != original["order_items"]  # its products changed
    assert changed["users"]["rows"] == original["users"]["rows"] + 7
    engine_o, engine_e = create_engine(original_url), create_engine(edited_url)
    query = text("SELECT * FROM users ORDER BY id")
    with engine_o.connect() as o, engine_e.connect() as e:
        assert e.execute(query).all()[:58] == o.execute(query).all()
    engine_o.dispose()
    engine_e.dispose()


UNSEEDED = """
import random
import secrets

import factory
from seedkit import Recipe
from .library_factories import AuthorFactory, BookFactory

recipe = Recipe("one column from os.urandom, one from the seeded random")
authors = recipe.add(AuthorFactory, 3)
books = recipe.add(
    BookFactory,
    per=authors,
    count=2,
    title=factory.LazyFunction(lambda: secrets.token_hex(8)),
    pages=factory.LazyFunction(lambda: random.randint(50, 500)),
)
"""


def test_values_from_unseeded_randomness_are_named(tmp_path, sqlite_url):
    project = write_project(tmp_path / "p", {"unseeded": UNSEEDED})
    report = cli_json("run", "unseeded", "--database-url", sqlite_url, *cli_options(project))
    assert report["nondeterministic"] == {"books": ["title"]}
    text_report = cli("run", "unseeded", "--truncate", "--yes", "--database-url", sqlite_url, *cli_options(project))
    assert "step books: title came out different" in text_report.stdout and "os.urandom" in text_report.stdout
    assert (
        cli_json("run", "library", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", *cli_options(project))[
            "nondeterministic"
        ]
        == {}
    )


def test_every_python_gives_one_fingerprint(tmp_path):
    """Python keeps only ``Random.random()`` stable across versions; seedkit draws through it.

    ``.ci/run`` installs seedkit for the other Pythons it finds and lists them in
    ``SEEDKIT_TEST_PYTHONS``; elsewhere this test has nothing to compare with.
    """
    others = [p for p in os.environ.get("SEEDKIT_TEST_PYTHONS", "").split(os.pathsep) if p]
    if not others:
        pytest.skip("SEEDKIT_TEST_PYTHONS names no other Python (set by .ci/run)")
    prints = {}
    for python in [sys.executable, *others]:
        url = f"sqlite:///{tmp_path / f'{len(prints)}.db'}"
        for args in (["run", "demo", "--seed", "42", "--scale", "3", "-q"], ["fingerprint", "--json"]):
            done = subprocess.run(
                [python, "-m", "seedkit", *args, "--database-url", url],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, (python, done.stderr)
        version = subprocess.run(
            [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True
        )
        prints[version.stdout.strip()] = json.loads(done.stdout)["overall"]
    assert len(set(prints.values())) == 1, prints


def test_other_threads_neither_move_nor_read_the_seeded_clock_and_randomness():
    """A writer's thread, a lock watcher or a Dask worker's event loop runs beside the seeding
    thread: its reads of random, uuid4 and the clock must not change what the seed draws."""
    import random
    import threading
    import time
    import uuid
    from datetime import UTC, datetime

    from seedkit.randomness import seeded_world

    def draws(meddle: bool) -> tuple[list, list]:
        seen: list = []
        with seeded_world(datetime(2001, 1, 1, tzinfo=UTC)):
            random.seed(5)
            if meddle:
                go = threading.Event()
                other = threading.Thread(
                    target=lambda: (seen.extend([random.random(), uuid.uuid4(), time.time()]), go.set())
                )
                other.start()
                go.wait()
                other.join()
            mine = [random.random(), uuid.uuid4(), random.randint(1, 10**9)]
        return mine, seen

    alone, _ = draws(False)
    beside, theirs = draws(True)
    assert beside == alone
    assert theirs[2] > datetime(2020, 1, 1, tzinfo=UTC).timestamp()  # the real clock, not the run's
    assert theirs[1] != alone[1]


def test_a_thread_reading_the_clock_as_the_seed_ends_gets_the_real_time():
    """A thread already inside the clock's read when the seed ends (a Dask event loop's timer)
    gets the real time, not an error from time-machine."""
    import threading
    import time
    from datetime import UTC, datetime

    from seedkit import randomness

    with randomness.seeded_world(datetime(2001, 1, 1, tzinfo=UTC)):
        clock = randomness._clock
    read: list[int] = []
    reader = threading.Thread(target=lambda: read.append(clock.time_ns()))
    reader.start()
    reader.join()
    assert read and abs(read[0] - time.time_ns()) < 60 * 10**9
