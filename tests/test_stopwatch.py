"""The run's time by stage: stages never overlap, and together they are the run's time."""

from __future__ import annotations

import threading

import pytest

from seedkit.stopwatch import Stopwatch, timed
from tests.conftest import cli_json


def _work() -> int:
    return sum(range(20_000))


def test_a_stage_entered_inside_another_pauses_it():
    watch = Stopwatch()
    with watch.stage("outer"):
        _work()
        with watch.stage("inner"):
            _work()
        _work()
    assert set(watch.seconds) == {"outer", "inner"}
    assert watch.seconds["outer"] > watch.seconds["inner"] > 0  # two pieces of work against one


def test_other_threads_are_not_counted():
    watch = Stopwatch()

    def elsewhere() -> None:
        with watch.stage("elsewhere"):
            _work()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert watch.seconds == {}


def test_timed_counts_producing_each_item():
    watch = Stopwatch()
    produced = list(timed((_work() for _ in range(3)), watch, "produce"))
    assert len(produced) == 3 and watch.seconds["produce"] > 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_runs_stages_add_up_to_its_seconds(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    report = cli_json("run", "demo", "--seed", "1", "--database-url", url)
    timings = report["timings"]
    assert {"connect", "migrate", "generate", "encode", "database", "fingerprint", "commit"} <= set(timings)
    assert all(seconds >= 0 for seconds in timings.values())
    assert sum(timings.values()) == pytest.approx(report["seconds"], abs=0.001 * len(timings) + 0.001)
