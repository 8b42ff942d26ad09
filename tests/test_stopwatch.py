"""The run's time by stage: stages never overlap, and together they are the run's time."""

from __future__ import annotations

import threading

import pytest

from seedkit.stopwatch import Stopwatch, timed
from tests.conftest import cli_json


class Clock:
    """Time that moves only when the test says so, so the stages' sums are exact, not raced."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_a_stage_entered_inside_another_pauses_it():
    clock = Clock()
    watch = Stopwatch(clock)
    with watch.stage("outer"):
        clock.advance(1.0)
        with watch.stage("inner"):
            clock.advance(2.0)
        clock.advance(4.0)
    assert watch.seconds == {"outer": 5.0, "inner": 2.0}


def test_time_outside_every_stage_is_not_counted():
    clock = Clock()
    watch = Stopwatch(clock)
    clock.advance(8.0)
    with watch.stage("a"):
        clock.advance(1.0)
    clock.advance(16.0)
    with watch.stage("a"):
        clock.advance(2.0)
    assert watch.seconds == {"a": 3.0}


def test_other_threads_are_not_counted():
    clock = Clock()
    watch = Stopwatch(clock)

    def elsewhere() -> None:
        with watch.stage("elsewhere"):
            clock.advance(1.0)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert watch.seconds == {}


def test_timed_counts_producing_each_item():
    clock = Clock()
    watch = Stopwatch(clock)

    def produce():
        for _ in range(3):
            clock.advance(1.0)
            yield "item"

    for _ in timed(produce(), watch, "produce"):
        clock.advance(10.0)  # the consumer's time is not the producer's
    assert watch.seconds == {"produce": 3.0}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_runs_stages_add_up_to_its_seconds(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    report = cli_json("run", "demo", "--seed", "1", "--database-url", url)
    timings = report["timings"]
    assert {"connect", "migrate", "generate", "encode", "database", "fingerprint", "commit"} <= set(timings)
    assert all(seconds >= 0 for seconds in timings.values())
    assert sum(timings.values()) == pytest.approx(report["seconds"], abs=0.001 * len(timings) + 0.001)
