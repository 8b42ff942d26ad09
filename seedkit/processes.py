"""Forked helper processes that can always be ended: one pipe each, no lock shared with the parent.

``multiprocessing.Pool`` cannot be relied on when a signal reaches the whole process group
(``timeout``, ``docker stop`` through a shell, a supervisor): an idle pool worker holds the task
queue's lock while it waits, dies holding it, and ``Pool.terminate()`` then waits for that lock
forever. A :class:`Child` shares nothing but its own pipe, so ending it is a kill and a join.
Children also die with their parent, even one killed with SIGKILL, instead of lingering.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies; elsewhere, nothing to ask."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(0)


def _child_main(serve: Callable[[Connection], None], conn: Connection, parent: int) -> None:
    _die_with(parent)
    # Ctrl-C and SIGTERM are the parent's to handle: it rolls back, then ends its children.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        serve(conn)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the parent went away or closed the pipe: nothing left to do


class Child:
    """A forked process running ``serve(conn)``; the parent talks to it through :attr:`conn`.

    Forked, so ``serve`` sees the parent's memory as it was (rows, compiled steps) without
    pickling any of it.
    """

    def __init__(self, serve: Callable[[Connection], None]) -> None:
        context = multiprocessing.get_context("fork")
        self.conn, theirs = context.Pipe()
        self._process = context.Process(target=_child_main, args=(serve, theirs, os.getpid()), daemon=True)
        self._process.start()
        theirs.close()

    def send(self, message: Any) -> None:
        self.conn.send(message)

    def receive(self) -> Any:
        return self.conn.recv()

    def ready(self) -> bool:
        """Whether a message is waiting (never blocks)."""
        try:
            return self.conn.poll()
        except (EOFError, OSError):
            return False

    def close(self) -> None:
        """End the process, whatever it is doing, and wait until it is gone."""
        self._process.kill()
        self._process.join()
        self.conn.close()
