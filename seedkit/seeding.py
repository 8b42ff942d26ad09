"""Generating a resolved recipe's rows and handing them to a writer, step by step.

Steps run in the plan's order. Rows stream to the writer chunk by chunk; only steps that later
steps point at (``per=``/``refs=``) keep their rows, as compact tuples. Every chunk's
randomness is derived from (seed, recipe, step, chunk number), never from what ran before.
Key allocation (:mod:`seedkit.keys`), factory-boy's own path (:mod:`seedkit.factory_path`) and
the run's fingerprints of the rows written (:class:`seedkit.written.RunHashes`) live apart;
this module holds the compiled path and the checks made on its chunks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from sqlalchemy import BigInteger, cast, select, update
from sqlalchemy.exc import DBAPIError

from seedkit.backends import backend_of_connection
from seedkit.cluster import Remote, generate_remote
from seedkit.errors import SeedFailed, SeedkitError, failing_as
from seedkit.factory_path import FactoryPath
from seedkit.generate import (
    CHUNK,
    CompiledStep,
    Unsupported,
    compile_step,
)
from seedkit.keys import KeyAllocator
from seedkit.lane import Lane
from seedkit.parallel import ALONE, Encoded, StepWork, Workers, generate_chunks
from seedkit.planning import scaled_size
from seedkit.randomness import derive
from seedkit.recipe import Between, Step
from seedkit.resolved import NOT_KEPT, Keep, ResolvedRecipe, StepPlan
from seedkit.rows import Chain, Expanded, KeyRange, projection
from seedkit.schema import TableInfo, row_class
from seedkit.stopwatch import timed
from seedkit.unique import Unfit, Uniquifier, uniquifiers_for
from seedkit.values import ValueCheck, check_values
from seedkit.writers import Writer
from seedkit.written import RenderedChunk, RunHashes

Progress = Callable[[str, int, int], None]  # (step name, rows done, rows planned)


# Multipliers of the key arithmetic fill_later draws rows with (primes, so keys spread evenly).
_SPREAD = 1_000_003
_ROOTS = 7_919


@dataclass
class SeedResult:
    paths: dict[str, str] = field(default_factory=dict)  # table -> writer name(s)
    reasons: dict[str, str] = field(default_factory=dict)  # step -> why it took the factory path
    planned: dict[str, tuple[str, int]] = field(default_factory=dict)  # step -> (table, rows it made)
    unsteady: dict[str, list[str]] = field(default_factory=dict)  # step -> columns that are not deterministic
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)  # step -> (first key, rows) seedkit numbered
    workers: int = 1  # the most processes any step was generated in


def draw_counts(plan: StepPlan, parents: int, step_seed: int) -> list[int]:
    """Children per parent, drawn per block of parents so any block can be redrawn alone."""
    spec, step = plan.count, plan.step
    counts: list[int] = []
    for block, start in enumerate(range(0, parents, CHUNK)):
        n = min(CHUNK, parents - start)
        if isinstance(spec, int):
            counts.extend([spec] * n)
            continue
        rng = random.Random(derive(step_seed, "counts", block))
        if isinstance(spec, Between):
            counts.extend(rng.choices(range(spec.low, spec.high + 1), k=n))
            continue
        for _ in range(n):
            value = spec(rng)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise step.recipe.error(step, f"count callable returned {value!r}; it must return a whole number ≥ 0")
            counts.append(value)
    return counts


STEADY_ROWS = 200  # rows generated twice per step that runs user code, to find unseeded randomness


def _unique(step: Step, uniquifier: Uniquifier, rows: list[tuple], attrs: tuple[str, ...]) -> list[tuple]:
    try:
        return uniquifier.apply(rows, attrs)
    except Unfit as unfit:
        if unfit.recipe_error:
            raise step.recipe.error(step, str(unfit)) from None
        raise SeedFailed(f"step {step.name!r}: {unfit}") from None


class Seeder:
    """Seeds one recipe on one connection inside the caller's transaction."""

    def __init__(
        self,
        lane: Lane,
        recipe: ResolvedRecipe,
        seed: int,
        scale: float,
        writer: Writer,
        progress: Progress | None = None,
        workers: Workers = ALONE,
        hashes: RunHashes | None = None,
        remote: Remote | None = None,
    ) -> None:
        """``lane``: the run's connection, shared with ``writer`` (questions wait for the rows
        sent before them). ``hashes``: the run's fingerprints, told of every row written and
        of each table's last step. ``remote``: an executor that generates the compiled steps' chunks
        instead of this process and its ``workers``."""
        self.lane = lane
        self.conn = lane.conn
        self.backend = backend_of_connection(self.conn)
        self.hashes = hashes
        self.workers = workers if remote is None else ALONE
        self.remote = remote
        self.recipe = recipe
        self.seed = seed
        self.scale = scale
        self.writer = writer
        self.progress = progress
        self.kept: dict[Step, Sequence[tuple]] = {}
        self.keys = KeyAllocator(lane.query)
        self.uniquifiers: dict[tuple[str, tuple[str, ...]], Uniquifier] = {}
        self.result = SeedResult()
        self._factory_path: FactoryPath | None = None
        self._changed_later: set[str] = set()

    def seed_all(self) -> SeedResult:
        """Seed every step; inside :func:`seedkit.environment.seeded`, as the runner does."""
        return self._seed_steps(self.recipe.steps)

    def _seed_steps(self, plans: tuple[StepPlan, ...]) -> SeedResult:
        last_step = {plan.step.info.name: plan.step for plan in plans}
        # Counts and highest keys up front: asking later would make the writer finish first.
        self.keys.prefetch([step.info for step in last_step.values()])
        # Tables whose rows change once every step is written (fill_later): hashed at the end.
        self._changed_later = {plan.step.info.name for plan in plans if plan.later}
        if self.hashes is not None:
            for name in sorted(self._changed_later):
                self.hashes.read_back_table(name, "fill_later updates its rows after they are written")
        for plan in plans:
            step = plan.step
            try:
                self._seed_step(plan)
                if last_step[step.info.name] is step:
                    self._settle(step.info)
            except (SeedkitError, DBAPIError) as exc:
                self.writer.abort(exc)
                raise
            except Exception as exc:  # user factory code can fail in any way; say where
                self.writer.abort(exc)
                raise SeedFailed(f"step {step.name!r} ({step.info.name}): {type(exc).__name__}: {exc}") from exc
            except BaseException as exc:  # Ctrl-C: end the COPY so the rollback can run
                self.writer.abort(exc)
                raise
        with self.lane.stopwatch.stage("finish"):  # the keys, indexes and checks still to come
            self.writer.finish()
        if self._factory_path is not None and self._factory_path.orm is not self.writer:
            self._factory_path.orm.finish()
        for plan in plans:
            for attr, source in plan.later.items():
                self._fill_later(plan.step, attr, source)
        return self.result

    def _fill_later(self, step: Step, attr: str, source: Step) -> None:
        """One UPDATE over the step's rows, by key arithmetic: each points at a row of ``source``
        drawn from the key and the step's seed (an earlier row of its own, for a tree)."""
        if step.name not in self.result.keys or source.name not in self.result.keys:
            self.result.reasons[step.name] = (
                f"{self.result.reasons.get(step.name, 'its rows were built by factory-boy')}; "
                f"fill_later({attr!r}) needs keys seedkit numbered, so it stays NULL"
            )
            return
        info = step.info
        first, rows = self.result.keys[step.name]
        target_first, target_rows = self.result.keys[source.name]
        if target_rows == 0:
            return
        table, key = info.table, info.table.c[info.columns[info.attrs.index(info.pk)].name]
        column = info.columns[info.attrs.index(info.links[attr].local[0])].name
        salt = derive(self.seed, self.recipe.name, step.name, "later", attr) % _SPREAD
        wide = cast(key, BigInteger)  # key times a prime overflows a 32-bit integer
        if source is step:  # a tree: a quarter of the rows, the first included, are roots
            where = (key.between(first + 1, first + rows - 1), (wide * _ROOTS + salt) % 4 != 0)
            value = first + (wide * _SPREAD + salt) % (key - first)
        else:
            where = (key.between(first, first + rows - 1),)
            value = target_first + (wide * _SPREAD + salt) % target_rows
        statement = update(table).where(*where).values({column: value})
        with failing_as(f"filling {info.name}.{column}", self.backend.driver_errors()):
            self.lane.query(lambda conn: conn.execute(statement))

    def _factory(self) -> FactoryPath:
        """factory-boy's path, set up when a step first needs it."""
        if self._factory_path is None:
            tables = {t for p in self.recipe.steps for t in p.step.info.table.metadata.tables.values()}
            self._factory_path = FactoryPath(self.conn, self.writer, tables, self.progress)
        return self._factory_path

    def _settle(self, info: TableInfo) -> None:
        self.writer.settle(info)
        if self.hashes is not None and info.name not in self._changed_later:
            self.hashes.settled(info.name)

    # -- per step -----------------------------------------------------------------------------

    def _rows_of(self, steps: Sequence[Step]) -> Sequence[tuple]:
        parts = [self.kept.get(s, []) for s in steps]
        return parts[0] if len(parts) == 1 else Chain(parts)

    def _seed_step(self, plan: StepPlan) -> None:
        step, keep, link_attr = plan.step, plan.keep, plan.link
        step_seed = self._step_seed(step)
        parents: Expanded | None = None
        if plan.parents:
            parent_rows = self._rows_of(plan.parents)
            with self.lane.stopwatch.stage("generate"):
                counts = draw_counts(plan, len(parent_rows), step_seed)
            parents = Expanded(parent_rows, counts)
            total = len(parents)
        else:
            total = scaled_size(step.size, self.scale)
        refs = {attr: self._rows_of(steps) for attr, steps in plan.refs.items()}
        for attr, rows in refs.items():
            if not rows and total:
                raise step.recipe.error(step, f"refs[{attr!r}] has no rows to pick from (its steps created none)")

        info = step.info
        try:
            with self.lane.stopwatch.stage("compile"):
                compiled = compile_step(step, link_attr, refs)
        except Unsupported as why:
            self.result.reasons[step.name] = str(why)
            # factory-boy looks parents up by key: put back the keys and indexes a fast writer
            # took off so far, so each lookup is an index probe and each insert is checked.
            self.writer.finish()
            # Its SubFactories may add rows to any table, hashed or not: hash them all at the end.
            if self.hashes is not None:
                self.hashes.give_up(f"factory-boy built the rows of step {step.name!r}, and may add rows anywhere")
            rows_kept = self._factory().write(
                step, step_seed, total, link_attr, parents, refs, keep, self.keys.sequence_base(info)
            )
            self._note_path(info.name, "orm")
            self.keys.forget_keys()  # the database numbered those rows (and any SubFactory parents)
        else:
            rows_kept = self._compiled_path(compiled, step_seed, total, parents, keep)
            self._note_path(info.name, self.writer.name)
        if keep is not NOT_KEPT:
            self.kept[step] = rows_kept
        self.keys.wrote(info, total)
        self.result.planned[step.name] = (info.name, total)

    def _step_seed(self, step: Step) -> int:
        return derive(self.seed, self.recipe.name, step.name)

    def _note_path(self, table: str, name: str) -> None:
        paths = self.result.paths.get(table)
        if paths is None:
            self.result.paths[table] = name
        elif name not in paths.split("+"):
            self.result.paths[table] = f"{paths}+{name}"

    def _compiled_path(
        self, compiled: CompiledStep, step_seed: int, total: int, parents: Expanded | None, keep: Keep
    ) -> Sequence[tuple]:
        info = compiled.info
        first_id = self.keys.take(info, total)
        if info.pk is not None:
            self.result.keys[compiled.step.name] = (first_id, total)
        seq = self.keys.sequence_base(info)
        kept: list[tuple] = []
        keys = None
        if info.pk is not None and keep is not None and keep <= {info.pk}:
            # Children read only the keys, which seedkit numbered consecutively: keep the range.
            keys = KeyRange(row_class(info.model, (info.pk,)), first_id, total)
        project = projection(info, compiled.write_attrs, keep) if keys is None else None
        uniquifiers: list[Uniquifier] | None = None
        linked = [compiled.link_attr, *compiled.refs] if compiled.link_attr else list(compiled.refs)
        own = {info.pk, *(local for attr in linked for local in info.links[attr].local)}
        values = ValueCheck(info, compiled.write_attrs, trusted=own)
        work = StepWork(compiled, step_seed, first_id, seq, parents)
        encode = self._worker_encoder(compiled, project)
        workers = min(self.workers.for_step(encode is not None), -(-total // CHUNK))
        if workers > 1 and encode is not None:
            render = None if self.hashes is None else self.hashes.renderer(info, compiled.write_attrs)
            work = replace(work, check=partial(check_values, compiled.step, values), encode=encode, render=render)
        self.result.workers = max(self.result.workers, workers)
        if total:
            with self.lane.stopwatch.stage("generate"):
                self._check_steady(work, total)
        if self.remote is not None:
            inputs = (step_seed, first_id, seq, compiled.refs)
            chunks = generate_remote(self.remote, compiled.step.name, inputs, parents, total)
        else:
            chunks = generate_chunks(work, total, workers)
        watch = self.lane.stopwatch
        for done, rows in timed(chunks, watch, "generate"):
            if isinstance(rows, RenderedChunk):  # checked and rendered by a worker: hashed here
                assert self.hashes is not None
                self.writer.write_canonical(info, self.hashes.receive(info, rows))
                self._progress(compiled.step.name, done, total)
                continue
            if isinstance(rows, Encoded):  # checked and encoded by a worker
                self.writer.write_encoded(info, compiled.write_attrs, rows.payload)
                if self.hashes is not None:
                    self.hashes.read_back_table(info.name, rows.why)
                self._progress(compiled.step.name, done, total)
                continue
            with watch.stage("check"):
                if uniquifiers is None:
                    uniquifiers = self._uniquifiers(compiled, rows)
                for uniquifier in uniquifiers:
                    rows = _unique(compiled.step, uniquifier, rows, compiled.write_attrs)
                check_values(compiled.step, values, rows)
            self._write_hashed(info, compiled.write_attrs, rows)
            if project is not None:
                with watch.stage("keep"):  # what later steps read of these rows
                    kept.extend(map(project, rows))
            self._progress(compiled.step.name, done, total)
        self._move_sequence(info, compiled.write_attrs)
        return kept if keys is None else keys

    def _worker_encoder(self, compiled: CompiledStep, project: object) -> Callable[[list[tuple]], bytes] | None:
        """How workers encode a step's chunks, where they may check and encode them themselves:
        the parent needs nothing of its rows (no unique columns to tag in order, no rows kept
        for later steps) and the writer can encode elsewhere. None: workers send rows."""
        if compiled.info.unique or project is not None:
            return None
        return self.writer.encoder(compiled.info, compiled.write_attrs)

    def _progress(self, step: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(step, done, total)

    def _check_steady(self, work: StepWork, total: int) -> None:
        """Generate a short first chunk twice: a column that comes out different reads
        randomness seedkit does not seed (``os.urandom``, ``secrets``, a salted hash) or keeps
        state between calls, and would differ between runs. Only steps that run user code can."""
        if not work.compiled.user_code:
            return
        first, again = (work.chunk(0, 0, min(STEADY_ROWS, total)) for _ in range(2))
        if again == first:
            return
        attrs = work.compiled.write_attrs
        differing = [a for i, a in enumerate(attrs) if any(x[i] != y[i] for x, y in zip(first, again, strict=True))]
        self.result.unsteady[work.compiled.step.name] = differing

    def _write_hashed(self, info: TableInfo, attrs: tuple[str, ...], rows: list[tuple]) -> None:
        """Write a chunk and hash it for the run's fingerprint (:mod:`seedkit.written`)."""
        canonical = None
        if self.hashes is not None:
            # Where the writer sends the canonical text (COPY), rendering it is the chunk's encoding.
            with self.lane.stopwatch.stage("encode" if self.hashes.sends_canonical else "fingerprint"):
                canonical = self.hashes.wrote(info, attrs, rows)
        if canonical is None:
            self._write(info, attrs, rows)
        else:
            self.writer.write_canonical(info, canonical)

    def _write(self, info: TableInfo, attrs: tuple[str, ...], rows: list[tuple]) -> None:
        with failing_as(f"writing {info.name}", self.backend.driver_errors()):
            self.writer.write(info, attrs, rows)

    def _uniquifiers(self, compiled: CompiledStep, sample: list[tuple]) -> list[Uniquifier]:
        info = compiled.info
        found = []
        alone = sum(p.step.info.name == info.name for p in self.recipe.steps) == 1
        for fresh in uniquifiers_for(compiled, sample, scoped=alone):
            key = (info.name, fresh.attrs)
            if key not in self.uniquifiers:
                if self.keys.initial.get(info.name) and fresh.scope is None:
                    # Appending: values already in the table are taken too (a scoped key
                    # cannot meet them: its parents are rows this run created).
                    taken = select(*[info.columns[info.attrs.index(a)] for a in fresh.attrs])
                    fresh.taken.update(self.lane.query(lambda conn, q=taken: [tuple(row) for row in conn.execute(q)]))
                self.uniquifiers[key] = fresh
            found.append(self.uniquifiers[key])
        return found

    def _move_sequence(self, info: TableInfo, written: Sequence[str] = ()) -> None:
        """Put the key's sequence (where the backend has one) past the ids seedkit assigned, and
        those of other key columns the step wrote (part of a composite key) past their values."""
        highest = self.keys.highest(info)
        if info.pk is not None and highest >= 1:
            key = info.column_name(info.pk)
            self.lane.ask(lambda conn: self.backend.move_sequence(conn, info.table, key, highest))
        for attr in written:
            column = info.columns[info.attrs.index(attr)]
            if attr != info.pk and column.primary_key and column.server_default is not None:
                self.lane.ask(lambda conn, name=column.name: self.backend.move_sequence(conn, info.table, name))
