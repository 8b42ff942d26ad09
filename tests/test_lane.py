"""The run's connection lane: questions wait behind the rows sent before them, in order."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text

from seedkit.lane import Lane


@pytest.fixture
def conn(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'lane.db'}")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        yield conn
    engine.dispose()


def test_a_question_on_an_idle_lane_runs_on_the_callers_thread(conn):
    lane = Lane(conn)
    assert lane.query(lambda c: threading.current_thread()) is threading.current_thread()


def test_a_question_waits_for_the_rows_sent_before_it_and_pauses_the_writer_first(conn):
    lane = Lane(conn)
    release, paused = threading.Event(), []
    lane.pause_with(lambda: paused.append(True))
    lane.send(release.wait)  # a slow write: the question must not overtake it
    lane.send(lambda: conn.execute(text("INSERT INTO t VALUES (1), (2)")))
    answer = lane.ask(lambda c: c.execute(text("SELECT count(*) FROM t")).scalar_one())
    assert not answer.done()
    release.set()
    assert answer.result() == 2 and paused == [True]
    lane.drain()
    assert lane.query(lambda c: threading.current_thread()) is threading.current_thread()


def test_the_first_failure_stops_the_lane_and_reaches_the_next_caller(conn):
    lane = Lane(conn)
    lane.send(lambda: 1 / 0)
    later = lane.ask(lambda c: c.execute(text("INSERT INTO t VALUES (3)")))
    with pytest.raises(ZeroDivisionError):
        later.result()
    with pytest.raises(ZeroDivisionError):
        lane.drain()
    assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
