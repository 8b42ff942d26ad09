"""seedkit's benchmark: where a seed's time goes, against the ways people seed today.

One command, one process tree, one run, on the demo schema:

  (1) `seedkit run demo` with the default path into PostgreSQL (COPY), at ~1.2M rows and at half
      that (peak RSS at both: memory must stay flat), with --workers 1 (the default is auto), with --dask on a
      LocalCluster of two one-thread workers (same fingerprint?), with --infer and no recipe on
      the demo's schema at about as many rows (time a row against the recipe's), and into a SQLite file
      at a smaller size; with the CPU seconds of seedkit's process and of the PostgreSQL backends
      serving it (a local server only), which say who the run waited for;
  (2) factory-boy `create_batch` with commit persistence, at a small size;
  (3) factory-boy `build_batch` + `session.add_all` + one commit;
  (4) seedkit's generation alone, writing nowhere;
  (5) the floor: COPY of the same rows, pre-generated and pre-encoded, in pg_restore's order:
      keys, indexes and foreign keys dropped, data loaded, then keys and indexes rebuilt and the
      foreign keys added back (validated), all in one transaction;
  (6) SQLite's floor: the SQLite run's rows, already in the driver's types, by ``executemany`` per
      table in one transaction, foreign keys on, plain indexes dropped and built after.

Each backend's run is compared with its floor in-command and as whole processes (the floor's
load plus a bare interpreter's start-up importing its driver), and the run's own thread is
broken down by stage (start-up, generation, checks, encoding, database, fingerprint, commit …).
For that comparison the run and the floor each run twice, alternating, and the faster try of each
counts, (5)/(1) included: on this shared machine the PostgreSQL ratio of the same code read 1.75x one day,
2.13x the next.

Then ``reset`` against ``reset --cache`` (keeping a template, then cloning it) on PostgreSQL, at
scale 1 and at --scale, with the time of one clone by each ``STRATEGY``; start-up (``seedkit --help``, the quick start into a new SQLite file) and realism: per Faker
column of the demo at --realism-scale, distinct values against Faker called once per row for the
same rows and the unique values tagged; the share of distinct ``utcnow`` instants over 5,000 rows
and the span of ``date_time_this_year`` under the default clock.

It prints tables and, last, one JSON line with rows/s of each and the ratios (1)/(2), (1)/(3),
(5)/(1). Figures are only comparable within one run: the machines are shared and noisy.

    python bench/run.py                 # defaults: --scale 2000 (~1.2M rows)
    python bench/run.py --scale 200     # a quick look
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from faker import Faker
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import factory  # noqa: E402
import factory.random  # noqa: E402

import seedkit  # noqa: E402
from seedkit.database import backend_of, parse_url  # noqa: E402
from seedkit.environment import seeded  # noqa: E402
from seedkit.lane import Lane  # noqa: E402
from seedkit.loader import load_recipe  # noqa: E402
from seedkit.parallel import auto_workers  # noqa: E402
from seedkit.randomness import seeded_world  # noqa: E402
from seedkit.resolved import resolve  # noqa: E402
from seedkit.schema import TableInfo  # noqa: E402
from seedkit.seeding import Seeder  # noqa: E402
from seedkit.writers import Immediate  # noqa: E402
from seedkit.writers.copy_text import TextEncoder  # noqa: E402

console = Console(stderr=True)


class Database:
    """Throwaway PostgreSQL databases on the local server, dropped when the bench ends."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def new(self) -> str:
        name = f"seedkit_bench_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def seedkit_run(url: str, scale: float, *extra: str, server: ServerCpu | None = None, infer: int = 0) -> dict:
    """(1): the real CLI in a child process; its own report's seconds, the child's peak RSS and
    CPU time, and (with ``server``) the CPU time of the PostgreSQL backends serving it. With
    ``infer``, no recipe: every table of the demo's schema, ``infer`` rows a parent table."""
    recipe = ["--infer", "--rows", str(infer)] if infer else ["demo", "--scale", str(scale)]
    args = [sys.executable, "-m", "seedkit", "run", *recipe, "--seed", "42"]
    args += ["--json", "-q", "--database-url", url, *extra]
    with tempfile.TemporaryFile("w+") as errors, server or contextlib.nullcontext():
        began = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)  # wait4: this child's own peak RSS and CPU
        wall = time.perf_counter() - began
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"seedkit run failed: {errors.read()}")
    report = json.loads(stdout)
    result = {"rows": report["total_rows"], "seconds": report["seconds"], "rss_mb": usage.ru_maxrss / 1024}
    result["fingerprint"] = report["fingerprint"]
    # The run's own thread, stage by stage; start-up and exit are the rest of the process's time.
    result["wall"] = wall
    result["timings"] = {"start-up and exit": round(wall - report["seconds"], 3), **report["timings"]}
    result["read_back"] = report["read_back"]
    # Workers are the child's children: wait4 counts them only once the child has reaped them.
    result["client_cpu"] = usage.ru_utime + usage.ru_stime
    if server is not None and server.seconds is not None:
        result["server_cpu"] = server.seconds
    return result


class ServerCpu:
    """CPU seconds of the PostgreSQL backends serving one database, read from /proc.

    Says whether a run is bound by the server or by seedkit: only for a server on this machine
    (elsewhere, or without /proc, ``seconds`` stays None). Backends are polled while they live,
    since their counters vanish with them; a backend's last 50 ms may be missed.
    """

    def __init__(self, admin: Engine, database: str) -> None:
        self.admin, self.database = admin, database
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self.seconds: float | None = None

    def __enter__(self) -> ServerCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.seconds = sum(self._last.values()) if self._last else None

    def _poll(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        find = text("SELECT pid FROM pg_stat_activity WHERE datname = :d")
        with self.admin.connect() as conn:
            while not self._stop.wait(0.05):
                for pid in conn.execute(find, {"d": self.database}).scalars():
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    self._last[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _engine(raw_url: str):
    url = parse_url(raw_url)
    return backend_of(url).make_engine(url, write=True)


def _demo_models():
    recipe = load_recipe(ROOT / "recipes", "demo")
    return recipe, sys.modules[recipe.steps[0].factory.__module__]


# Plain factory-boy has no notion of unique columns: Faker emails collide within a few thousand rows.
_UNIQUE_EMAIL = factory.Sequence(lambda n: f"user{n}@example.org")


def _count_shop_rows(engine) -> int:
    with engine.connect() as conn:
        return sum(
            conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("users", "products", "orders", "order_items")
        )


def factory_boy_create_batch(url: str, items: int) -> dict:
    """(2): the tutorial way: create_batch, commit per row, parents via SubFactory."""
    _, factories = _demo_models()
    seedkit.migrate(seedkit.load_settings(database_url=url))
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    session = Session(engine)
    classes = [getattr(factories, n) for n in dir(factories) if n.endswith("Factory") and n != "BaseFactory"]
    saved = {c: (c._meta.sqlalchemy_session, c._meta.sqlalchemy_session_persistence) for c in classes}
    for c in classes:
        c._meta.sqlalchemy_session, c._meta.sqlalchemy_session_persistence = session, "commit"
    factory.random.reseed_random(1)
    began = time.perf_counter()
    factories.OrderItemFactory.create_batch(items, order__user__email=_UNIQUE_EMAIL)
    seconds = time.perf_counter() - began
    rows = _count_shop_rows(engine)
    for c, (s, p) in saved.items():
        c._meta.sqlalchemy_session, c._meta.sqlalchemy_session_persistence = s, p
    session.close()
    engine.dispose()
    return {"rows": rows, "seconds": seconds}


def factory_boy_build_add_all(url: str, items: int) -> dict:
    """(3): build_batch, add_all, one commit."""
    _, factories = _demo_models()
    seedkit.migrate(seedkit.load_settings(database_url=url))
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    factory.random.reseed_random(1)
    began = time.perf_counter()
    with Session(engine) as session:
        session.add_all(factories.OrderItemFactory.build_batch(items, order__user__email=_UNIQUE_EMAIL))
        session.commit()
    seconds = time.perf_counter() - began
    rows = _count_shop_rows(engine)
    engine.dispose()
    return {"rows": rows, "seconds": seconds}


class CapturingWriter(Immediate):
    """Keeps every row it is given (for the floor) and writes nothing."""

    name = "capture"

    def __init__(self, conn) -> None:
        self.conn = conn
        self.batches: list[tuple[TableInfo, tuple[str, ...], list[tuple]]] = []

    def write(self, info, attrs, rows) -> None:
        self.batches.append((info, attrs, rows))


def generation_alone(scale: float) -> tuple[dict, CapturingWriter]:
    """(4): seedkit's generation, rows handed to a writer that keeps them and writes nothing.

    An empty migrated SQLite file stands in for the target: seedkit only asks it for counts.
    """
    recipe, _ = _demo_models()
    with tempfile.TemporaryDirectory() as folder:
        settings = seedkit.load_settings(database_url=f"sqlite:///{folder}/empty.db")
        seedkit.migrate(settings)
        engine = _engine(settings.database_url)
        with engine.connect() as conn, conn.begin():
            writer = CapturingWriter(conn)
            began = time.perf_counter()
            with seeded(seedkit.randomness.DEFAULT_NOW):
                Seeder(Lane(conn), resolve(recipe), 42, scale, writer).seed_all()
            seconds = time.perf_counter() - began
        engine.dispose()
    rows = sum(len(batch) for _, _, batch in writer.batches)
    return {"rows": rows, "seconds": seconds}, writer


def copy_floor(url: str, captured: CapturingWriter) -> dict:
    """(5): COPY of pre-encoded rows in pg_restore's order, in one transaction.

    Foreign keys, primary keys, unique constraints and indexes are dropped first; after the data,
    keys and indexes are rebuilt, then the foreign keys are added back and validated.
    """
    settings = seedkit.load_settings(database_url=url)
    seedkit.migrate(settings)
    payloads = []
    for info, attrs, rows in captured.batches:
        encoder = TextEncoder.for_columns([info.columns[info.attrs.index(a)] for a in attrs])
        columns = ", ".join(info.column_name(a) for a in attrs)
        payloads.append((info.name, f"COPY {info.name} ({columns}) FROM STDIN", encoder.encode(rows)))
    tables = sorted({name for name, _, _ in payloads})
    engine = _engine(url)
    with engine.connect() as conn:
        began = time.perf_counter()
        with conn.begin():
            constraints = conn.execute(
                text(
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE contype IN ('f', 'p', 'u') AND conrelid::regclass::text = ANY(:t) "
                    "ORDER BY contype = 'f' DESC"
                ),
                {"t": tables},
            ).all()
            indexes = conn.execute(
                text(
                    "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                    "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid::regclass::text = ANY(:t) "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
                ),
                {"t": tables},
            ).all()
            for table, name, _ in constraints:
                conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            for name, _ in indexes:
                conn.exec_driver_sql(f"DROP INDEX {name}")
            cursor = conn.connection.driver_connection.cursor()
            for _, sql, payload in payloads:
                with cursor.copy(sql) as copy:
                    copy.write(payload)
            for table, name, definition in reversed(constraints):  # keys first, foreign keys last
                if "FOREIGN KEY" not in definition:
                    conn.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            for _, definition in indexes:
                conn.exec_driver_sql(definition)
            for table, name, definition in constraints:
                if "FOREIGN KEY" in definition:
                    conn.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        seconds = time.perf_counter() - began
    engine.dispose()
    rows = sum(len(batch) for _, _, batch in captured.batches)
    return {"rows": rows, "seconds": seconds}


def sqlite_floor(captured: CapturingWriter) -> dict:
    """The SQLite floor: the same rows, already in the driver's types, with ``executemany`` per
    table in one transaction, foreign keys on, plain indexes dropped first and built after."""
    import sqlite3

    from sqlalchemy.dialects import sqlite

    from seedkit.writers import bind_processors, encode

    dialect = sqlite.dialect()
    batches = []
    for info, attrs, rows in captured.batches:
        processors = bind_processors(dialect, info, attrs)
        columns = ", ".join(info.column_name(a) for a in attrs)
        sql = f"INSERT INTO {info.name} ({columns}) VALUES ({', '.join('?' * len(attrs))})"
        batches.append((sql, list(encode(rows, processors))))
    with tempfile.TemporaryDirectory() as folder:
        settings = seedkit.load_settings(database_url=f"sqlite:///{folder}/floor.db")
        seedkit.migrate(settings)
        conn = sqlite3.connect(f"{folder}/floor.db", isolation_level=None)
        began = time.perf_counter()
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        for sql, rows in batches:
            conn.executemany(sql, rows)
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        seconds = time.perf_counter() - began
        conn.close()
    return {"rows": sum(len(rows) for _, rows in batches), "seconds": seconds}


def interpreter_start(module: str) -> float:
    """Seconds for a bare Python to start and import ``module`` (median of five): what a
    whole-process floor pays before its first row."""
    times = []
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=2000, help="demo recipe scale for (1), (4), (5)")
    parser.add_argument("--sqlite-scale", type=float, default=400, help="demo recipe scale into SQLite")
    parser.add_argument("--create-items", type=int, default=300, help="order items for (2), 4 rows each")
    parser.add_argument("--build-items", type=int, default=25_000, help="order items for (3), 4 rows each")
    parser.add_argument("--realism-scale", type=float, default=200, help="demo scale for the realism report")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres", help="admin URL")
    args = parser.parse_args()
    # Processes start as an installed seedkit's do: `pip install` compiles a package's modules,
    # an editable install does not, and where PYTHONDONTWRITEBYTECODE is set (as on the team's
    # machines) every seedkit process would compile its ~60 modules from source again (~0.1 s).
    for folder in ("seedkit", "recipes", "migrations"):
        compileall.compile_dir(ROOT / folder, quiet=1)

    db = Database(args.pg)
    results: dict[str, dict] = {}
    try:
        steps = [
            ("1 seedkit run (PostgreSQL)", lambda: _pg_run(db, args.scale)),
            ("1 seedkit run, half size", lambda: _pg_run(db, args.scale / 2)),
            ("1 seedkit run, --workers 1", lambda: _pg_run(db, args.scale, "--workers", "1")),
            ("1 seedkit run, --dask (LocalCluster)", lambda: _dask_run(db, args.scale)),
            ("1 seedkit run --infer (no recipe)", lambda: _pg_run(db, args.scale, infer=_infer_rows(args.scale))),
            ("1 seedkit run (SQLite file)", lambda: _sqlite_run(args.sqlite_scale)),
            ("2 factory-boy create_batch, commit", lambda: factory_boy_create_batch(db.new(), args.create_items)),
            ("3 factory-boy build + add_all", lambda: factory_boy_build_add_all(db.new(), args.build_items)),
        ]
        # A run nobody measures first: the first seedkit process of a bench was ~2 s slower than the
        # same run a minute later (a cold machine), which no case should pay alone.
        console.print("warming up …")
        _pg_run(db, args.scale / 10)
        for label, step in steps:
            console.print(f"running {label} …")
            results[label] = step()
        console.print("running 4 generation alone …")
        results["4 seedkit generation alone"], captured = generation_alone(args.scale)
        console.print("running 5 COPY floor, and (1) and (5) once more …")
        results["5 COPY floor, constraints after"] = copy_floor(db.new(), captured)
        pg_run = _faster(results["1 seedkit run (PostgreSQL)"], _pg_run(db, args.scale))
        pg_floor = _faster(results["5 COPY floor, constraints after"], copy_floor(db.new(), captured))
        del captured
        console.print("running 6 SQLite floor, and the SQLite run and (6) once more …")
        _, captured = generation_alone(args.sqlite_scale)
        results["6 SQLite floor, executemany"] = sqlite_floor(captured)
        sqlite_run = _faster(results["1 seedkit run (SQLite file)"], _sqlite_run(args.sqlite_scale))
        sqlite_floor_run = _faster(results["6 SQLite floor, executemany"], sqlite_floor(captured))
        del captured
        console.print("running reset against reset --cache …")
        cached = {f"scale {scale:g}": cache_resets(db, scale) for scale in (1, args.scale)}
    finally:
        db.drop_all()

    # CPU seconds beside the wall seconds tell who the run waited for: seedkit's process (startup
    # and imports included, workers too) or the PostgreSQL server.
    table = Table(
        "case", "rows", "seconds", "rows/s", "peak RSS MB", "seedkit CPU s", "server CPU s",
        title="seedkit benchmark (one run)",
    )  # fmt: skip
    for label, r in results.items():
        r["rows_per_s"] = r["rows"] / r["seconds"] if r["seconds"] else 0.0
        extra = [f"{r[k]:.{p}f}" if k in r else "" for k, p in (("rss_mb", 0), ("client_cpu", 2), ("server_cpu", 2))]
        table.add_row(label, f"{r['rows']:,}", f"{r['seconds']:.2f}", f"{r['rows_per_s']:,.0f}", *extra)
    Console(width=140).print(table)  # wider than a pipe's default 80 columns

    one = results["1 seedkit run (PostgreSQL)"]
    summary = {
        "rows_per_s": {label: round(r["rows_per_s"]) for label, r in results.items()},
        "peak_rss_mb": {"full": round(one["rss_mb"]), "half": round(results["1 seedkit run, half size"]["rss_mb"])},
        "ratio_1_over_2": round(one["rows_per_s"] / results["2 factory-boy create_batch, commit"]["rows_per_s"], 1),
        "ratio_1_over_3": round(one["rows_per_s"] / results["3 factory-boy build + add_all"]["rows_per_s"], 1),
        # The floor comparison's in-command ratio: the faster of two tries on each side.
        "ratio_5_over_1": round(pg_run["seconds"] / pg_floor["seconds"], 2),
        "ratio_auto_over_workers_1": round(one["rows_per_s"] / results["1 seedkit run, --workers 1"]["rows_per_s"], 2),
        "cpu_seconds": {
            label: {
                "seedkit": round(r["client_cpu"], 2),
                "server": round(r["server_cpu"], 2) if "server_cpu" in r else None,
            }
            for label, r in results.items()
            if "client_cpu" in r
        },
    }
    admin = parse_url(args.pg)
    summary["workers_auto"] = asdict(auto_workers(backend_of(admin).resolve(admin)))
    console.print(
        f"--workers auto chooses {summary['workers_auto']} here"
        f" (the default run's rows/s are {summary['ratio_auto_over_workers_1']}x --workers 1's)"
    )
    dask = results["1 seedkit run, --dask (LocalCluster)"]
    alone = results["1 seedkit run, --workers 1"]
    summary["ratio_dask_over_1"] = round(dask["rows_per_s"] / alone["rows_per_s"], 2)
    summary["dask_same_fingerprint"] = dask["fingerprint"] == alone["fingerprint"] == one["fingerprint"]
    console.print(
        f"--dask on a LocalCluster of 2 one-thread workers ran at {summary['ratio_dask_over_1']}x one process, "
        f"{'the same' if summary['dask_same_fingerprint'] else 'a DIFFERENT'} fingerprint"
    )
    inferred = results["1 seedkit run --infer (no recipe)"]
    summary["ratio_infer_time_over_recipe"] = round(one["rows_per_s"] / inferred["rows_per_s"], 2)
    console.print(
        f"--infer on the demo's schema ({inferred['rows']:,} rows) took {summary['ratio_infer_time_over_recipe']}x "
        "the hand-written recipe's time a row (target 1.5)"
    )
    summary["floors"] = {
        "postgresql": _against_floor(pg_run, pg_floor, "psycopg"),
        "sqlite": _against_floor(sqlite_run, sqlite_floor_run, "sqlite3"),
    }
    for backend, target in (("postgresql", 1.5), ("sqlite", 2.0)):
        f = summary["floors"][backend]
        console.print(
            f"{backend}: seedkit run {f['seedkit_whole_s']}s as a whole process, the floor {f['floor_whole_s']}s "
            f"(load {f['floor_s']}s + a bare interpreter's start-up {f['interpreter_s']}s): {f['ratio_whole']}x "
            f"(target {target}x); in-command {f['seedkit_in_command_s']}s against {f['floor_s']}s, {f['ratio_in_command']}x "
            f"(faster of two tries: seedkit {f['tries_s']['seedkit']}s, floor {f['tries_s']['floor']}s)"
        )
    breakdown = Table(
        "stage (seconds of the run's own thread)", "PostgreSQL", "SQLite", title="where a run's time goes"
    )
    pg_times, sqlite_times = pg_run["timings"], sqlite_run["timings"]
    for stage in dict.fromkeys([*pg_times, *sqlite_times]):
        breakdown.add_row(stage, f"{pg_times.get(stage, 0):.2f}", f"{sqlite_times.get(stage, 0):.2f}")
    breakdown.add_row("whole process", f"{pg_run['wall']:.2f}", f"{sqlite_run['wall']:.2f}")
    Console(width=140).print(breakdown)
    summary["timings"] = {"postgresql": pg_times, "sqlite": sqlite_times}
    summary["read_back"] = {
        "postgresql": pg_run["read_back"],
        "sqlite": sqlite_run["read_back"],
    }
    summary["cache"] = cached
    for size, c in cached.items():
        console.print(
            f"reset --cache, demo at {size} ({c['rows']:,} rows, template {c['template_mb']} MB): reset {c['reset_s']}s, "
            f"--cache keeping the template {c['reset_cache_miss_s']}s, cloning it {c['reset_cache_first_hit_s']}s "
            f"right after and {c['reset_cache_hit_s']}s again "
            f"({c['ratio_reset_over_cached']}x whole processes, {c['ratio_in_command']}x in-command; "
            f"{'same' if c['same_fingerprint'] else 'DIFFERENT'} fingerprint); "
            f"a clone alone: WAL_LOG {c['clone_s']['WAL_LOG']}s, FILE_COPY {c['clone_s']['FILE_COPY']}s"
        )
    summary["per_test_setup_ms"] = per_test_setup(args.pg)
    console.print(
        "per-test setup, median ms (a test asking for seedkit_session, demo at scale 1): "
        + ", ".join(f"{label} {ms:.1f}" for label, ms in summary["per_test_setup_ms"].items())
        + " (targets: PostgreSQL 50, SQLite 10)"
    )
    summary["startup"] = startup()
    summary["realism"] = realism(args.realism_scale)
    summary["clock"] = moving_clock()
    shown = Table("column", "provider", "rows", "distinct", "Faker per row", "ratio", "tagged", "Faker collisions",
                  title=f"realism: demo at --scale {args.realism_scale:g} (SQLite)")  # fmt: skip
    for line in summary["realism"]:
        shown.add_row(
            line["column"], line["provider"], f"{line['rows']:,}", f"{line['distinct']:,}",
            "(row arguments)" if line["faker_per_row"] is None else f"{line['faker_per_row']:,}", f"{line['ratio']:.3f}",
            f"{line.get('tagged', '')}", f"{line.get('faker_collisions', '')}",
        )  # fmt: skip
    Console(width=140).print(shown)
    console.print(
        f"utcnow over 5,000 rows: {summary['clock']['utcnow_distinct_share']:.1%} distinct (target 95%); "
        f"date_time_this_year spans {summary['clock']['this_year_span_days']:g} days"
    )
    console.print(
        f"start-up: seedkit --help {summary['startup']['help_s']:.2f}s (target 0.2), "
        f"seedkit run demo --seed 42 into a new SQLite file {summary['startup']['run_demo_sqlite_s']:.2f}s (target 1.0)"
    )
    print(json.dumps(summary))


def realism(scale: float) -> list[dict]:
    """Per Faker column of the demo at ``scale`` (SQLite): distinct values against Faker called
    once per row for the same number of rows, and unique values that had to be tagged."""
    recipe, _ = _demo_models()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/realism.db"
        seedkit.run("demo", settings=seedkit.load_settings(database_url=url), seed=42, scale=scale)
        engine = create_engine(url)
        report, seen = [], set()
        with engine.connect() as conn:
            for step in recipe.steps:
                table = step.info.name
                for attr, decl in step.factory._meta.declarations.items():
                    if not isinstance(decl, factory.Faker) or (table, attr) in seen:
                        continue
                    seen.add((table, attr))
                    column = step.info.column_name(attr)
                    rows, ours = conn.execute(text(f"SELECT count(*), count(DISTINCT {column}) FROM {table}")).one()
                    line = {"column": f"{table}.{column}", "provider": decl.provider, "rows": rows, "distinct": ours}
                    if any(isinstance(v, factory.declarations.BaseDeclaration) for v in decl._defaults.values()):
                        # Arguments from the row (orders after their user): against the row count.
                        report.append(line | {"faker_per_row": None, "ratio": round(ours / rows, 3) if rows else 1})
                        continue
                    kwargs = dict(decl._defaults)
                    fake = Faker(kwargs.pop("locale", None))
                    fake.seed_instance(42)
                    with seeded_world(seedkit.randomness.DEFAULT_NOW):
                        theirs = len({getattr(fake, decl.provider)(**kwargs) for _ in range(rows)})
                    line |= {"faker_per_row": theirs, "ratio": round(ours / theirs, 3)}
                    if "email" in decl.provider and any(attr in unique for unique in step.info.unique):
                        tagged = conn.execute(text(f"SELECT count(*) FROM {table} WHERE {column} LIKE '%+%@%'"))
                        line |= {"tagged": tagged.scalar_one(), "faker_collisions": rows - theirs}
                    report.append(line)
        engine.dispose()
    return report


def moving_clock() -> dict[str, float]:
    """``LazyFunction(datetime.utcnow)`` over 5,000 rows (share distinct), and the days that
    ``date_time_this_year`` spans under the default clock."""
    from datetime import datetime

    from seedkit import fakes
    from seedkit.generate import Chunk

    with seeded_world(seedkit.randomness.DEFAULT_NOW):
        Chunk(1, 0)  # a chunk restarts the clock user code reads
        instants = [datetime.utcnow() for _ in range(5000)]
        this_year = fakes.column_for("date_time_this_year", {}, None)(random.Random(1), 5000)
    return {
        "utcnow_distinct_share": round(len(set(instants)) / len(instants), 4),
        "this_year_span_days": round((max(this_year) - min(this_year)).total_seconds() / 86400, 1),
    }


def startup() -> dict[str, float]:
    """Whole-process wall seconds (median of five) of what a new user types first: ``--help``,
    and the quick start's ``seedkit run demo --seed 42`` into a new SQLite file."""

    def median_of(command: list[str], fresh_file: bool) -> float:
        times = []
        for _ in range(5):
            with tempfile.TemporaryDirectory() as folder:
                extra = ["--database-url", f"sqlite:///{folder}/demo.db"] if fresh_file else []
                began = time.perf_counter()
                subprocess.run([sys.executable, "-m", "seedkit", *command, *extra], check=True, capture_output=True)
                times.append(time.perf_counter() - began)
        return round(statistics.median(times), 3)

    return {
        "help_s": median_of(["--help"], fresh_file=False),
        "run_demo_sqlite_s": median_of(["run", "demo", "--seed", "42", "-q"], fresh_file=True),
    }


def _timed_cli(*args: str) -> tuple[float, dict]:
    """A whole ``seedkit`` process's wall seconds (start-up included) and its JSON report."""
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "seedkit", *args, "--json", "-q"], cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"seedkit {' '.join(args)} failed: {proc.stderr}")
    return seconds, json.loads(proc.stdout)


def cache_resets(db: Database, scale: float) -> dict:
    """``reset`` against ``reset --cache`` (a miss that keeps the template, then a hit) of the demo
    at ``scale`` on PostgreSQL, whole processes; and a clone of the template with each STRATEGY."""
    url = db.new()
    reset = ["reset", "demo", "--seed", "42", "--scale", str(scale), "--yes", "--database-url", url]
    plain_s, plain = _timed_cli(*reset)
    kept_s, kept = _timed_cli(*reset, "--cache")
    first_hit_s, _ = _timed_cli(*reset, "--cache")  # its clone's checkpoint writes out the seed before
    hit_s, hit = _timed_cli(*reset, "--cache")
    template = kept["cache"]["template"]
    clones = {}
    try:
        with db.admin.connect() as conn:
            for strategy in ("WAL_LOG", "FILE_COPY"):
                copy = f"seedkit_bench_clone_{uuid.uuid4().hex[:8]}"
                began = time.perf_counter()
                conn.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{template}" STRATEGY = {strategy}'))
                clones[strategy] = time.perf_counter() - began
                conn.execute(text(f'DROP DATABASE "{copy}"'))
            size = conn.execute(text("SELECT pg_database_size(:d)"), {"d": template}).scalar()
    finally:
        with db.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}"'))
    return {
        "rows": plain["total_rows"],
        "reset_s": round(plain_s, 2),
        "reset_cache_miss_s": round(kept_s, 2),
        "reset_cache_first_hit_s": round(first_hit_s, 2),
        "reset_cache_hit_s": round(hit_s, 2),
        "ratio_reset_over_cached": round(plain_s / hit_s, 1),
        # The same, from each command's own report (start-up and imports left out).
        "ratio_in_command": round(plain["seconds"] / hit["seconds"], 1),
        "same_fingerprint": plain["fingerprint"] == kept["fingerprint"] == hit["fingerprint"] and hit["cache"]["hit"],
        "template_mb": round(size / 1e6, 1),
        "clone_s": {k: round(v, 3) for k, v in clones.items()},
    }


_RECORD_SETUP = """
import json, os

def pytest_runtest_logreport(report):
    if report.when == "setup" and report.passed:
        with open(os.environ["SETUP_TIMES"], "a") as out:
            out.write(json.dumps(report.duration) + "\\n")
"""

_BASELINE = """
import random

import factory.random
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from recipes import factories as f
from recipes.models import Base


@pytest.fixture
def baseline_session():
    # The tutorials' way: a fresh in-memory database, create_all, the demo's rows from factory-boy.
    # Seeded, as pytest-randomly would: unseeded, one test in a few hundred drew a duplicate email.
    factory.random.reseed_random(42)
    random.seed(42)
    engine = create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine)
    session = Session(engine)
    for cls in (f.UserFactory, f.ProductFactory, f.ProjectFactory, f.OrderFactory, f.TaskFactory, f.OrderItemFactory):
        cls._meta.sqlalchemy_session = session
    users, products = f.UserFactory.create_batch(58), f.ProductFactory.create_batch(20)
    projects = f.ProjectFactory.create_batch(10)
    orders = [f.OrderFactory(user=random.choice(users)) for _ in range(103)]
    for _ in range(66):
        f.TaskFactory(project=random.choice(projects))
    for _ in range(263):
        f.OrderItemFactory(order=random.choice(orders), product=random.choice(products))
    session.commit()
    yield session
    session.close()
    engine.dispose()
"""


def per_test_setup(admin_url: str, tests: int = 40) -> dict[str, float]:
    """Median setup of one test that asks for ``seedkit_session`` (the demo at scale 1), with the
    plugin on SQLite and on PostgreSQL, beside create_all + factory-boy per test; the first test
    (which may build the template) is left out."""
    medians = {}
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        for name in ("recipes", "migrations"):
            shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "alembic.ini", project / "alembic.ini")
        (project / "pytest.ini").write_text("[pytest]\nseedkit_recipe = demo\n")
        (project / "conftest.py").write_text(_RECORD_SETUP + _BASELINE)
        body = "def test_{i}({fixture}):\n    assert {fixture} is not None\n"
        cases = {
            "plugin, SQLite": ("seedkit_session", []),
            "plugin, PostgreSQL": ("seedkit_session", ["--seedkit-database-url", admin_url]),
            "create_all + factory-boy per test (SQLite in memory)": ("baseline_session", []),
        }
        for label, (fixture, extra) in cases.items():
            (project / "test_setup.py").write_text("".join(body.format(i=i, fixture=fixture) for i in range(tests)))
            times = project / "times.jsonl"
            times.unlink(missing_ok=True)
            env = {**os.environ, "SETUP_TIMES": str(times), "SEEDKIT_CACHE_DIR": str(project / "cache")}
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
                cwd=project, env=env, capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(f"per-test setup ({label}) failed:\n{done.stdout[-4000:]}{done.stderr[-2000:]}")
            durations = [json.loads(line) for line in times.read_text().splitlines()]
            medians[label] = statistics.median(durations[1:]) * 1000
        subprocess.run(
            [sys.executable, "-m", "seedkit", "cache", "clear", "-q", "--database-url", admin_url],
            cwd=project, check=True, capture_output=True,
        )  # fmt: skip
    return medians


def _faster(first: dict, second: dict) -> dict:
    """The faster of two tries of a case of the floor comparison (its seconds, CPU and RSS
    together), with both tries' seconds. A seedkit run and its floor alternate, so a neighbour's
    burst on a shared machine spoils a ratio only if it hits both tries of one side. The other
    ratios keep the first try, as before."""
    best = dict(min(first, second, key=lambda r: r.get("wall", r["seconds"])))
    best["tries"] = [round(r.get("wall", r["seconds"]), 2) for r in (first, second)]
    return best


def _against_floor(run: dict, floor: dict, module: str) -> dict:
    """A seedkit run against the floor of the same rows: in-command, and as whole processes
    (the floor's load plus what a bare interpreter importing its driver takes to start)."""
    start = interpreter_start(module)
    return {
        "seedkit_whole_s": round(run["wall"], 2),
        "seedkit_in_command_s": round(run["seconds"], 2),
        "floor_s": round(floor["seconds"], 2),
        "interpreter_s": round(start, 2),
        "floor_whole_s": round(floor["seconds"] + start, 2),
        "ratio_whole": round(run["wall"] / (floor["seconds"] + start), 2),
        "ratio_in_command": round(run["seconds"] / floor["seconds"], 2),
        "tries_s": {"seedkit": run.get("tries"), "floor": floor.get("tries")},
    }


def _pg_run(db: Database, scale: float, *extra: str, infer: int = 0) -> dict:
    url = db.new()
    return seedkit_run(url, scale, *extra, server=ServerCpu(db.admin, make_url(url).database), infer=infer)


# Rows a parent table gets so that --infer fills the demo's schema with about as many rows as
# --scale does: 3 parent tables, then 0-5 children a parent (2.5 on average) down two levels.
def _infer_rows(scale: float) -> int:
    demo_rows_per_scale = 600  # ~1.2M rows at --scale 2000
    return round(scale * demo_rows_per_scale / (3 + 2.5 + 2.5 * 2.5 + 2.5))


def _dask_run(db: Database, scale: float) -> dict:
    """(1) with generation on a Dask LocalCluster on this machine (workers' CPU not counted)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        return _pg_run(db, scale, "--dask", cluster.scheduler_address)


def _sqlite_run(scale: float) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        return seedkit_run(f"sqlite:///{folder}/bench.db", scale)


if __name__ == "__main__":
    main()
