"""The one place seedkit's randomness comes from.

Every random choice of a run descends from the run seed through :func:`derive`, keyed by names
(recipe, step, column, chunk) rather than by position, so adding a step or resizing one leaves
every other step's draws untouched. :func:`seeded_world` pins what user code may read behind
our back — the clock, ``random``, ``uuid.uuid4``, factory-boy's fuzzy RNG and Faker's shared
generator — for the duration of a run, and restores it afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import factory.random
import faker.generator
from sqlalchemy import Table

from seedkit.clock import DEFAULT_NOW, parse_now  # noqa: F401 - the run clock, for this module's readers
from seedkit.errors import UsageError
from seedkit.imports import without
from seedkit.schema import zero_arg

with without("pytest"):  # time-machine imports it for a fixture seedkit never uses
    import time_machine


# The clock user code reads moves through the day before the run clock (see MovingClock).
CLOCK_WINDOW = timedelta(days=1)
_ORIGINAL_UUID4 = uuid.uuid4


def derive(*parts: object) -> int:
    """A 64-bit seed from any parts; stable across processes, machines and Python versions."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def seeded_uuid4() -> uuid.UUID:
    """A version-4 UUID drawn from the (seeded) global ``random`` instead of ``os.urandom``."""
    return uuid.UUID(int=random.getrandbits(128), version=4)


def _uuid4_by_thread() -> uuid.UUID:
    return seeded_uuid4() if threading.get_ident() == _owner else _ORIGINAL_UUID4()


# random's module-level functions (random.random, random.randint, ...): bound methods of one
# hidden instance, which every thread shares.
_RANDOM_FUNCTIONS = {
    name: value for name, value in vars(random).items() if getattr(value, "__self__", None) is random._inst
}


@contextlib.contextmanager
def _random_for_this_thread() -> Iterator[None]:
    """Keep ``random``'s shared generator for the seeding thread alone while a seed runs.

    Other threads of the process (the writer's, a lock watcher, a Dask worker's event loop)
    may call ``random.random()`` too; between a chunk's reseed and its last row, one call there
    would change the rows. Their module-level calls go to a generator of their own instead.
    """
    others = random.Random()

    def routed(name: str, own: object) -> object:
        theirs = getattr(others, name)
        return lambda *args, **kwargs: (own if threading.get_ident() == _owner else theirs)(*args, **kwargs)

    for name, own in _RANDOM_FUNCTIONS.items():
        setattr(random, name, routed(name, own))
    try:
        yield
    finally:
        for name, own in _RANDOM_FUNCTIONS.items():
            setattr(random, name, own)


def is_uuid4(function: object) -> bool:
    """True for ``uuid.uuid4`` captured before a run patched it (``default=uuid.uuid4``)."""
    return function is _ORIGINAL_UUID4


def reseed_shared(seed: int) -> None:
    """Reseed the generators user code shares: ``random``, factory-boy's and Faker's (unless the
    caller keeps its own, see :class:`seedkit.environment.Environment`)."""
    if not _reseeding:
        return
    factory.random.reseed_random(seed)
    random.seed(seed)


class MovingClock:
    """The clock user code reads during a seed: deterministic, yet moving like a real one.

    With a frozen clock every ``datetime.utcnow()`` in a factory is the same instant. This one
    moves forward by a seeded 1 ms to 1 s at every read, as a clock does while rows are made,
    through the day before the run clock (``CLOCK_WINDOW``), wrapping to its start rather than
    passing the run clock. Each chunk restarts it at a point drawn from its own seed, so a
    chunk's reads give the same instants in any process, and in any order of chunks.

    Only the thread that seeds reads it (see :func:`seeded_world`). Any other thread — the writer's, a lock watcher, a Dask
    worker's event loop — reads the real time: its reads would otherwise move the seeding
    thread's clock (values that differ between runs) and send its own timers back and forth.
    """

    def __init__(self, now: datetime) -> None:
        self.end = _ns(now)
        self.window = int(CLOCK_WINDOW.total_seconds()) * 1_000_000_000
        self.position = self.end
        self._rng = random.Random(0)

    def restart(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self.position = self.end - self.window + int(self._rng.random() * self.window)

    def time_ns(self) -> int:
        if threading.get_ident() != _owner:
            try:
                return time_machine.escape_hatch.time.time_ns()
            except ValueError:  # the seed ended while this thread was reading: the real clock is back
                return time.time_ns()
        self.position += 1_000_000 + int(self._rng.random() * 999_000_000)
        if self.position > self.end:
            self.position -= self.window
        return self.position


def _ns(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


_clock: MovingClock | None = None
_run_now: datetime | None = None
_reseeding = True  # whether chunks reseed the shared generators (see seeded_world)
_owner: int | None = None  # the thread that seeds: the only one that reads the seeded clock and randomness


def restart_clock(seed: int) -> None:
    """Start the moving clock afresh for a chunk (nothing outside a seed)."""
    if _clock is not None:
        _clock.restart(seed)


def run_now() -> datetime:
    """The run clock itself (UTC), fixed for the whole run: what relative windows ("-2y" to
    "now") are measured from. Outside a seed, the real time."""
    return _run_now if _run_now is not None else datetime.now(UTC)


@contextlib.contextmanager
def seeded_world(now: datetime, *, clock: bool = True, uuid4: bool = True, shared: bool = True) -> Iterator[None]:
    """Set the run clock at ``now`` (in UTC) and, each where asked: let user code read a clock
    moving up to it (``clock``), route ``uuid.uuid4`` through seeded randomness (``uuid4``), and
    reseed the shared generators per chunk, restoring them after (``shared``).

    All of it holds for the calling thread only; other threads see the real clock, the real
    ``uuid.uuid4`` and a ``random`` of their own.
    """
    global _clock, _run_now, _reseeding, _owner
    saved = (random.getstate(), factory.random.randgen.getstate(), faker.generator.random.getstate())
    _owner = threading.get_ident()
    if uuid4:
        uuid.uuid4 = _uuid4_by_thread
    _reseeding, _run_now = shared, now.astimezone(UTC)
    try:
        with contextlib.ExitStack() as stack:
            if shared:
                stack.enter_context(_random_for_this_thread())
            if clock:
                try:
                    traveller = stack.enter_context(time_machine.travel(now.astimezone(ZoneInfo("UTC")), tick=False))
                except RuntimeError as exc:  # freezegun is active
                    raise UsageError(
                        f"Cannot set the run clock: {exc} Keep your own clock with seedkit.Environment(clock=False)."
                    ) from None
                _clock = MovingClock(now)
                # time-machine asks its traveller for the time at every read, in C: answer from ours.
                traveller.time_ns = _clock.time_ns  # type: ignore[method-assign]
            yield
    finally:
        _clock = _run_now = _owner = None
        _reseeding = True
        uuid.uuid4 = _ORIGINAL_UUID4
        if shared:
            random.setstate(saved[0])
            factory.random.randgen.setstate(saved[1])
            faker.generator.random.setstate(saved[2])


@contextlib.contextmanager
def seeded_column_defaults(tables: Iterable[Table]) -> Iterator[None]:
    """Route column defaults declared as ``default=uuid.uuid4`` through seeded randomness.

    SQLAlchemy keeps its own reference to the function, which patching ``uuid.uuid4`` cannot
    reach; on the factory path SQLAlchemy fills those defaults itself.
    """
    saved = []
    for table in tables:
        for column in table.columns:
            default = column.default
            if default is not None and default.is_callable and is_uuid4(zero_arg(default.arg)):
                saved.append((default, default.arg))
                default.arg = lambda context: seeded_uuid4()
    try:
        yield
    finally:
        for default, arg in saved:
            default.arg = arg
