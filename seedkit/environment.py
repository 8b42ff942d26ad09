"""What a seed changes in the process for its duration, each part of which a caller can keep.

A run changes process-wide state so that user code is deterministic and seeding is fast: the
clock, ``uuid.uuid4``, the shared random generators, the cycle collector, the GIL's switch
interval. A test suite that manages its own clock (freezegun, time-machine) or its own
randomness can turn the matching part off for :func:`seedkit.seed_into`; what it keeps, it
keeps deterministic itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime

from seedkit.collector import collecting_rarely
from seedkit.randomness import seeded_world
from seedkit.switching import switching_often


@dataclass(frozen=True)
class Environment:
    """Which parts of the seeded environment a seed switches on (all, by default)."""

    clock: bool = True  # user code reads a clock moving up to the run clock
    uuid: bool = True  # uuid.uuid4 draws from seeded randomness
    random: bool = True  # random, factory-boy's and Faker's generators reseeded per chunk, restored after
    collector: bool = True  # the cycle collector runs rarely (a third of generation time otherwise)
    switching: bool = True  # a 0.5 ms GIL switch interval (the writer's thread waits less)


@contextmanager
def seeded(now: datetime, environment: Environment = Environment()) -> Iterator[None]:  # noqa: B008
    """Switch the environment's parts on for a seed at run clock ``now``, and back off after."""
    with ExitStack() as stack:
        if environment.collector:
            stack.enter_context(collecting_rarely())
        if environment.switching:
            stack.enter_context(switching_often())
        stack.enter_context(
            seeded_world(now, clock=environment.clock, uuid4=environment.uuid, shared=environment.random)
        )
        yield
