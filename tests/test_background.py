"""The writer's job line: abandoning it (an interrupted run) never hangs and runs nothing queued."""

from __future__ import annotations

import threading

from seedkit.writers.background import Background


def _busy_line() -> tuple[Background, threading.Event, list[str]]:
    """A line whose thread is inside a job until the returned event is set, with a job queued."""
    line, started, release, ran = Background("test-line"), threading.Event(), threading.Event(), []
    line.submit(lambda: started.set() or release.wait())
    started.wait()
    line.submit(lambda: ran.append("queued job"))
    return line, release, ran


def test_abandoning_drops_the_queued_jobs():
    line, release, ran = _busy_line()
    stopping = threading.Thread(target=line.stop, kwargs={"discard": True})
    stopping.start()
    release.set()
    stopping.join(timeout=30)
    assert not stopping.is_alive() and ran == []


def test_abandoning_a_line_whose_queue_lock_an_interrupt_leaked_returns():
    line, release, _ = _busy_line()
    line._jobs.mutex.acquire()  # what a KeyboardInterrupt raised just as `put` took the lock leaves
    stopped = threading.Event()
    threading.Thread(target=lambda: (line.stop(discard=True), stopped.set()), daemon=True).start()
    assert stopped.wait(timeout=30), "stop(discard=True) hung on the leaked lock"
    release.set()
