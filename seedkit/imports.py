"""Importing a library without the optional extras it loads whenever they are installed.

Some libraries import another one at import time just in case: time-machine imports pytest
for its fixture, Alembic's template engine (Mako) imports Pygments to colour its error pages.
seedkit uses neither extra, and in a project with its test and dev tools installed they cost
every command's start-up 60 ms and 30 ms. Inside :func:`without`, ``import pytest`` fails as if
it were not installed, and such a library goes without; afterwards the module imports as usual
(under pytest, pytest is imported already and nothing changes).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without(*names: str) -> Iterator[None]:
    """Make ``import name`` fail within, for each of ``names`` not imported yet."""
    blocked = [name for name in names if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not found"
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
