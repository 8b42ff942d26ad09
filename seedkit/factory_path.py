"""factory-boy's own path: each row built by the factory, through a session on the run's connection.

Taken by steps seedkit cannot compile (post-generation hooks, an unlinked ``SubFactory``,
``Dict``/``List``). It is slow (an ORM object per row) but exact: whatever the factory does, it
does here, with seedkit's seeded randomness and clock, and inside the run's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import Connection, Table
from sqlalchemy.orm import Session

from seedkit.errors import RecipeError, SeedFailed
from seedkit.generate import CHUNK, Chunk, pick_refs
from seedkit.randomness import seeded_column_defaults
from seedkit.recipe import Step
from seedkit.resolved import Keep
from seedkit.rows import Expanded, chunk_parents, projection
from seedkit.schema import table_info
from seedkit.values import ValueCheck, check_values
from seedkit.writers import Writer
from seedkit.writers.orm import OrmWriter

Progress = Callable[[str, int, int], None]


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


@contextmanager
def _factories_bound_to(session: Session) -> Iterator[None]:
    """Point every SQLAlchemy factory (sub-factories included) at the run's session, then restore.

    Factories name their own session (or none) for the user's tests; during a seed they must all
    write through the run's transaction, and flush rather than commit.
    """
    saved = []
    for cls in _all_subclasses(SQLAlchemyModelFactory):
        meta = cls._meta
        saved.append(
            (meta, meta.sqlalchemy_session, meta.sqlalchemy_session_factory, meta.sqlalchemy_session_persistence)
        )
        meta.sqlalchemy_session, meta.sqlalchemy_session_factory = session, None
        meta.sqlalchemy_session_persistence = "flush"
    try:
        yield
    finally:
        for meta, *values in saved:
            meta.sqlalchemy_session, meta.sqlalchemy_session_factory, meta.sqlalchemy_session_persistence = values


class FactoryPath:
    """The session and state factory-boy's path keeps for a run (created when a step first needs it)."""

    def __init__(self, conn: Connection, writer: Writer, tables: set[Table], progress: Progress | None) -> None:
        self.orm = writer if isinstance(writer, OrmWriter) else OrmWriter(conn)
        self._tables = tables
        self.progress = progress

    def write(
        self,
        step: Step,
        step_seed: int,
        total: int,
        link_attr: str | None,
        parents: Expanded | None,
        refs: dict[str, list],
        keep: Keep,
        sequence_start: int,
    ) -> list[tuple]:
        """Build the step's ``total`` rows with factory-boy; the rows later steps read are returned."""
        session = self.orm.session
        info = step.info
        step.factory.reset_sequence(sequence_start, force=True)
        project = projection(info, info.attrs, keep)
        kept: list[tuple] = []
        tables = self._tables
        values = ValueCheck(info, info.attrs)
        with _factories_bound_to(session), seeded_column_defaults(tables):
            for number, start in enumerate(range(0, total, CHUNK)):
                n = min(CHUNK, total - start)
                chunk = Chunk(step_seed, number)
                own_parents, offset = chunk_parents(parents, start, n)
                picked = pick_refs(step, chunk, refs, n, own_parents, offset)
                for i in range(n):
                    kwargs = dict(step.overrides)
                    kwargs.update({trait: True for trait in step.traits})
                    if link_attr is not None:
                        kwargs[link_attr] = self._instance(session, info.links[link_attr].target, own_parents[i])
                    for attr, chosen in picked.items():
                        kwargs[attr] = self._instance(session, info.links[attr].target, chosen[i])
                    obj = step.factory.create(**kwargs)
                    if not isinstance(obj, step.model):
                        raise SeedFailed(
                            f"step {step.name!r}: {step.factory.__name__}.create() returned {type(obj).__name__}, "
                            f"not a {step.model.__name__} (an async _create? seedkit creates rows synchronously)"
                        )
                    # seedkit owns persistence during a seed: a factory whose _create only builds
                    # the object (as async tutorials write them) still has its row written.
                    session.add(obj)
                    row = tuple(getattr(obj, a) for a in info.attrs)
                    check_values(step, values, [row])
                    if project is not None:
                        kept.append(project(row))
                session.flush()
                session.expunge_all()
                if self.progress is not None:
                    self.progress(step.name, start + n, total)
        return kept

    @staticmethod
    def _instance(session: Session, model: type, row: tuple) -> object:
        """The ORM instance behind a kept row, for factory-boy, which links objects, not ids."""
        pk = table_info(model).pk
        if pk is None:
            raise RecipeError(f"{model.__name__} has no single integer primary key to link the factory path through")
        return session.get(model, getattr(row, pk))
