"""PostgreSQL through psycopg 3: libpq's own parameter resolution, and an advisory run lock.

libpq decides where a connection goes from more than the URL's host and path: query parameters
override them (``?dbname=``, ``?host=``, ``?hostaddr=``), a service file can supply them, and
the ``PG*`` environment fills what is left. Protection has to be judged on that result, so
:meth:`PostgreSQL.resolve` reproduces it from the exact arguments SQLAlchemy hands psycopg, and
:meth:`PostgreSQL.connected` reads what the live connection really reached.
"""

from __future__ import annotations

import configparser
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import psycopg.errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy import Column, Connection, Engine, Table, create_engine, text
from sqlalchemy.engine import URL

from seedkit.backends import Backend, Target, Waiting
from seedkit.backends.hosts import canonical_host
from seedkit.errors import LockBusy, UsageError
from seedkit.fingerprints import NULL, Render, TableFingerprint, layout
from seedkit.json_text import dumps
from seedkit.safety import mask_url
from seedkit.schema import column_kind

if TYPE_CHECKING:
    from seedkit.backends.postgresql_templates import PostgreSQLTemplates

# Where libpq looks when neither the URL nor a service names a parameter.
_ENVIRONMENT = {"host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER"}
# work_mem for the fingerprint's ordered aggregate (see _sort_memory).
SORT_MEMORY_KB = 64 * 1024
# Any constant works; it only has to be the same for every seedkit process.
_ADVISORY_LOCK_KEY = 0x5EED_C17


def _service_files() -> list[Path]:
    """The service files libpq reads, the user's before the system's."""
    user = os.environ.get("PGSERVICEFILE") or str(Path.home() / ".pg_service.conf")
    system = Path(os.environ.get("PGSYSCONFDIR", "/etc/postgresql-common")) / "pg_service.conf"
    return [Path(user), system]


def _service(name: str) -> dict[str, str]:
    """A service's parameters, or a usage error if seedkit cannot see where it points."""
    for path in _service_files():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as exc:
            raise UsageError(f"Cannot read the PostgreSQL service file {path}: {exc}") from None
        if parser.has_section(name):
            return dict(parser.items(name))
    raise UsageError(
        f"The PostgreSQL service {name!r} is not defined in {' or '.join(map(str, _service_files()))}, so seedkit "
        "cannot tell which database it names; put host and database in the URL instead."
    )


def connect_parameters(url: URL) -> dict[str, str]:
    """The parameters libpq will use for ``url``: URL, query, service file and PG* environment."""
    repeated = sorted(key for key, value in url.query.items() if not isinstance(value, str))
    if repeated:
        raise UsageError(f"{mask_url(url)} gives {', '.join(repeated)} more than once; give each parameter once.")
    args, kwargs = url.get_dialect()().create_connect_args(url)
    try:
        given = {k: str(v) for k, v in conninfo_to_dict(make_conninfo(*args, **kwargs)).items() if v is not None}
    except psycopg.ProgrammingError as exc:
        raise UsageError(f"Malformed PostgreSQL URL {mask_url(url)}: {exc}") from None
    service_name = given.get("service") or os.environ.get("PGSERVICE")
    service = _service(service_name) if service_name else {}
    resolved = dict(given)
    for key, variable in _ENVIRONMENT.items():
        value = given.get(key) or service.get(key) or os.environ.get(variable)
        if value:
            resolved[key] = value
    return resolved


def _display(params: dict[str, str], url: URL) -> str:
    """The target as a person should see it; ``:***`` where the URL carries a password."""
    user = params.get("user", "")
    password = ":***" if url.password or "password" in url.query else ""
    at = f"{user}{password}@" if user or password else ""
    host = params.get("host") or params.get("hostaddr") or ""
    port = f":{params['port']}" if params.get("port") and host else ""
    return f"postgresql://{at}{host}{port}/{params.get('dbname', '')}"


def _hosts(*values: str | None) -> tuple[str, ...]:
    found = (canonical_host(h) for value in values if value for h in value.split(","))
    return tuple(dict.fromkeys(h for h in found if h))


# COPY's escapes, in the order seedkit.writers.copy_text.escape applies them (backslash first).
_ESCAPES = (("'\\'", "'\\\\'"), ("E'\\t'", "'\\t'"), ("E'\\n'", "'\\n'"), ("E'\\r'", "'\\r'"))


def _escaped(text: str) -> str:
    for char, escaped in _ESCAPES:
        text = f"replace({text}, {char}, {escaped})"
    return text


def _canonical_text(kind: str, col: str) -> str:
    expressions = {
        "bool": f"CASE WHEN {col} THEN '1' WHEN NOT {col} THEN '0' END",
        "int": f"{col}::text",
        "float": f"{col}::text",
        "numeric": f"trim_scale({col})::text",
        "timestamp": f"""to_char({col}, 'YYYY-MM-DD"T"HH24:MI:SS.US')""",
        "timestamptz": f"""to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')""",
        "date": f"to_char({col}, 'YYYY-MM-DD')",
        "json": _escaped(f"{col}::jsonb::text"),
        # SQLite keeps UUIDs as 32 hex digits in a CHAR(32) column that reflects as text.
        "uuid": f"replace({col}::text, '-', '')",
        "bytes": f"encode({col}, 'hex')",
        "text": _escaped(f"{col}::text"),
    }
    return f"coalesce({expressions.get(kind, f'{col}::text')}, '{NULL}')"


def _table_fingerprint(conn: Connection, table: Table) -> TableFingerprint:
    """The server renders every row as the fingerprint's canonical text and hashes it: no row
    crosses the wire."""
    quote, columns, pk, table_sql = layout(conn, table)
    row = "concat_ws(E'\\t', " + ", ".join(_canonical_text(column_kind(c), quote(c.name)) for c in columns) + ")"
    order = ", ".join(pk) if pk else f'{row} COLLATE "C"'
    sql = (
        f"SELECT count(*), encode(sha256(convert_to(coalesce(string_agg({row}, E'\\n' ORDER BY {order}) || E'\\n', ''), "
        f"'UTF8')), 'hex') FROM {table_sql}"
    )
    with _sort_memory(conn):
        count, digest = conn.exec_driver_sql(sql).one()
    return TableFingerprint(rows=count, hash=digest)


@contextmanager
def _sort_memory(conn: Connection) -> Iterator[None]:
    """Let the ordered aggregate sort in memory, for this query only.

    PostgreSQL's default ``work_mem`` (4MB) makes it spill a large table's sort to disk; with
    64MB, hashing 600k order items took 0.47 s instead of 0.60 s. The previous value is put
    back, so a caller's own transaction keeps its setting.
    """
    previous = conn.exec_driver_sql("SELECT setting::bigint FROM pg_settings WHERE name = 'work_mem'").scalar()
    if previous >= SORT_MEMORY_KB:
        yield
        return
    conn.exec_driver_sql(f"SELECT set_config('work_mem', '{SORT_MEMORY_KB}kB', true)")
    yield  # a failed query aborts the transaction, whose rollback puts the setting back
    conn.exec_driver_sql(f"SELECT set_config('work_mem', '{int(previous)}kB', true)")


class PostgreSQL(Backend):
    name = "postgresql"
    copies = True

    def resolve(self, url: URL) -> Target:
        params = connect_parameters(url)
        if not params.get("dbname"):
            raise UsageError(
                f"{mask_url(url)} names no database, and neither PGDATABASE nor a service does; "
                "add one to the URL (postgresql://user@host:5432/dbname)."
            )
        return Target(
            hosts=_hosts(params.get("host"), params.get("hostaddr")),
            database=params["dbname"],
            display=_display(params, url),
        )

    def connected(self, conn: Connection) -> Target:
        info = conn.connection.driver_connection.info
        params = {"user": info.user, "host": info.host, "port": str(info.port), "dbname": info.dbname}
        return Target(
            hosts=_hosts(info.host, info.hostaddr), database=info.dbname, display=_display(params, conn.engine.url)
        )

    def make_engine(self, url: URL, *, write: bool) -> Engine:
        return create_engine(url, connect_args={"connect_timeout": 10}, json_serializer=dumps)

    @contextmanager
    def begin(self, conn: Connection, *, write: bool, waiting: Waiting) -> Iterator[None]:
        with conn.begin():
            if waiting.timeout is not None:
                # Every wait for a lock in this transaction, ours or a migration's, is bounded.
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, round(waiting.timeout * 1000))}")
            yield

    def acquire_run_lock(self, conn: Connection, waiting: Waiting) -> None:
        """A transaction-level advisory lock, released by commit or rollback: a crash cannot leave it held."""
        if conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY}).scalar():
            return
        holder = conn.execute(_RUN_LOCK_HOLDER, {"k": _ADVISORY_LOCK_KEY}).scalar()
        who = f" (pid {holder})" if holder else ""
        target = self.connected(conn).display
        if not waiting.wait:
            raise LockBusy(
                f"Another seedkit run{who} holds the lock on {target}; "
                "try again when it has finished, or drop --no-wait-lock to wait for it."
            )
        if waiting.notify is not None:
            waiting.notify(f"waiting for another seedkit run{who} on {target} to finish")
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})

    @contextmanager
    def watching_locks(self, conn: Connection, waiting: Waiting) -> Iterator[None]:
        """A thread on a connection of its own asks the server whom ``conn`` waits for."""
        if waiting.notify is None:
            yield
            return
        watcher = _LockWatcher(conn.engine, conn.connection.driver_connection.info.backend_pid, waiting.notify)
        watcher.start()
        try:
            yield
        finally:
            watcher.stop()

    def lock_timed_out(self, exc: BaseException) -> bool:
        return isinstance(exc, psycopg.errors.LockNotAvailable)

    def driver_errors(self) -> tuple[type[BaseException], ...]:
        return (*super().driver_errors(), psycopg.Error)

    def table_fingerprint(self, conn: Connection, table: Table) -> TableFingerprint:
        return _table_fingerprint(conn, table)

    def hashes_tables(self, conn: Connection, sends_canonical: bool) -> str | None:
        """None where the writer sends the fingerprint's canonical text (COPY): the run hashes
        what it sends. Rendering the rows only to hash them, for another writer, was measured at
        1.2M rows (the demo, two cores) at 4.8-6 s of the run's own thread, against about 1 s of
        waiting for the server, which hashes each table while seedkit generates the next."""
        if sends_canonical:
            return None
        return "PostgreSQL hashes each table itself while seedkit generates the next"

    def stored_text(self, conn: Connection, written: Column, stored: Column) -> Render | str:
        from seedkit.backends.postgresql_values import stored_text

        return stored_text(written, stored, conn.dialect)

    def triggered_tables(self, conn: Connection) -> set[str]:
        return set(conn.execute(_CHANGED_AS_WRITTEN).scalars())

    def hashable_early(self, conn: Connection) -> bool:
        """Yes, unless a user trigger could change a table after its own rows are in."""
        triggers = "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE NOT tgisinternal)"
        return not conn.exec_driver_sql(triggers).scalar()

    def empty(self, conn: Connection, tables: Sequence[Table]) -> None:
        """One ``TRUNCATE … RESTART IDENTITY`` where it does what ``DELETE`` would, in
        milliseconds where ``DELETE`` took 4.5 s of a 10.6 s run at 1.2M rows (and left them all
        as dead rows to vacuum). ``DELETE`` stays wherever the two differ: a user trigger on
        delete or truncate, a rule on delete, row-level security, a foreign key from a table
        outside ``tables`` (or their partitions), or no ``TRUNCATE`` privilege; the tables' own
        sequences restart then too."""
        if not tables:
            return
        preparer = conn.dialect.identifier_preparer
        names = [preparer.format_table(table) for table in tables]
        if not conn.execute(_DIFFERS_FROM_DELETE, {"names": names}).scalar():
            conn.exec_driver_sql(f"TRUNCATE TABLE {', '.join(names)} RESTART IDENTITY")
            return
        super().empty(conn, tables)
        for sequence in conn.execute(_OWNED_SEQUENCES, {"names": names}).scalars().all():
            conn.exec_driver_sql(f"ALTER SEQUENCE {sequence} RESTART")

    def partitions(self, conn: Connection) -> dict[str, str]:
        rows = conn.execute(_PARTITIONS).all()
        return {row.part: _bound_condition(row.bound, row.keydef) for row in rows}

    def partitioned(self, conn: Connection) -> dict[str, tuple[str, str]]:
        found: dict[str, list[str]] = {}
        keys: dict[str, str] = {}
        for row in conn.execute(_PARTITIONS).all():
            key = _partition_key(row.keydef)
            if key is None:
                continue
            keys[row.parent] = key
            found.setdefault(row.parent, []).append(_bound_condition(row.bound, row.keydef))
        return {
            parent: (keys[parent], " OR ".join(f"({c})" for c in conditions)) for parent, conditions in found.items()
        }

    def templates(self, url: URL, folder: Path) -> PostgreSQLTemplates:
        """Template databases on the target's server (``folder`` is not used)."""
        from seedkit.backends.postgresql_templates import PostgreSQLTemplates

        return PostgreSQLTemplates(url, self.resolve(url).database)

    def move_sequence(self, conn: Connection, table: Table, column: str, highest: int | None = None) -> None:
        """``setval`` on a serial or identity column's sequence, if the column has one."""
        table_sql = conn.dialect.identifier_preparer.format_table(table)
        if highest is None:
            column_sql = conn.dialect.identifier_preparer.quote(column)
            highest = conn.exec_driver_sql(f"SELECT max({column_sql}) FROM {table_sql}").scalar()
            if highest is None:
                return
        move = text(
            "SELECT setval(seq, :m) FROM (SELECT pg_get_serial_sequence(:t, :c) AS seq) s WHERE seq IS NOT NULL"
        )
        conn.execute(move, {"t": table_sql, "c": column, "m": highest})


# Tables of the current schema with a user trigger or a rewrite rule.
_CHANGED_AS_WRITTEN = text(
    "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND ("
    "EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) OR "
    "EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN'))"
)


# The named tables and their partitions or inheritance children, which DELETE and TRUNCATE
# empty alike (see PostgreSQL.empty).
_FAMILY = (
    "WITH RECURSIVE family(oid) AS ("
    " SELECT CAST(CAST(name AS regclass) AS oid) FROM unnest(CAST(:names AS text[])) AS name"
    " UNION SELECT i.inhrelid FROM pg_inherits i JOIN family f ON i.inhparent = f.oid) "
)
# Whether TRUNCATE of the family would not do what DELETE does.
_DIFFERS_FROM_DELETE = text(
    _FAMILY + "SELECT EXISTS (SELECT 1 FROM pg_trigger t JOIN family f ON t.tgrelid = f.oid"
    "  WHERE NOT t.tgisinternal AND (t.tgtype & (8 | 32)) <> 0)"  # on DELETE or TRUNCATE
    " OR EXISTS (SELECT 1 FROM pg_rewrite r JOIN family f ON r.ev_class = f.oid WHERE r.ev_type = '4')"
    " OR EXISTS (SELECT 1 FROM pg_class c JOIN family f ON c.oid = f.oid WHERE c.relrowsecurity)"
    " OR EXISTS (SELECT 1 FROM pg_constraint k JOIN family f ON k.confrelid = f.oid"
    "  WHERE k.contype = 'f' AND k.conrelid NOT IN (SELECT oid FROM family))"
    " OR EXISTS (SELECT 1 FROM family f WHERE NOT has_table_privilege(f.oid, 'TRUNCATE'))"
)
# The sequences the family's serial and identity columns own: what RESTART IDENTITY restarts.
_OWNED_SEQUENCES = text(
    _FAMILY + "SELECT CAST(CAST(s.oid AS regclass) AS text) FROM pg_depend d JOIN family f ON d.refobjid = f.oid "
    "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' WHERE d.classid = 'pg_class'::regclass "
    "AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') ORDER BY 1"
)

# Partitions of partitioned tables, with their bounds and their parent's key.
_PARTITIONS = text(
    "SELECT p.relname AS parent, c.relname AS part, pg_get_expr(c.relpartbound, c.oid) AS bound, "
    "pg_get_partkeydef(p.oid) AS keydef FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "JOIN pg_class p ON p.oid = i.inhparent WHERE c.relispartition AND p.relkind = 'p' "
    "AND c.relnamespace = current_schema()::regnamespace ORDER BY p.relname, c.relname"
)


def _partition_key(keydef: str) -> str | None:
    """The column of ``RANGE (x)`` or ``LIST (x)``; None for an expression or several columns."""
    match = re.fullmatch(r"(?:RANGE|LIST|HASH) \((\w+)\)", keydef)
    return match.group(1) if match else None


def _bound_condition(bound: str, keydef: str) -> str:
    """A partition's ``FOR VALUES …`` as a condition on its key column (TRUE for DEFAULT)."""
    key = _partition_key(keydef)
    ranged = re.fullmatch(r"FOR VALUES FROM \((.+)\) TO \((.+)\)", bound)
    listed = re.fullmatch(r"FOR VALUES IN \((.+)\)", bound)
    if key is None or bound == "DEFAULT":
        return "TRUE"
    if ranged:
        low, high = ranged.groups()
        parts = [f"{key} >= {low}" if low != "MINVALUE" else "", f"{key} < {high}" if high != "MAXVALUE" else ""]
        return " AND ".join(p for p in parts if p) or "TRUE"
    if listed:
        return f"{key} IN ({listed.group(1)})"
    return "TRUE"  # hash partitions take every value


# The session holding the run lock: a bigint advisory key is (classid, objid) = (high, low) 32 bits.
_RUN_LOCK_HOLDER = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
    "AND classid = (CAST(:k AS bigint) >> 32) AND objid = (CAST(:k AS bigint) & 4294967295) "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1"
)
# Whom a backend waits for, unless it waits for the run lock (said once, by acquire_run_lock).
_BLOCKERS = text(
    "SELECT b.pid, coalesce(nullif(b.application_name, ''), b.usename) AS who, left(b.query, 80) AS query "
    "FROM pg_stat_activity w, unnest(pg_blocking_pids(w.pid)) AS blocker(pid) "
    "JOIN pg_stat_activity b ON b.pid = blocker.pid "
    "WHERE w.pid = :pid AND w.wait_event_type = 'Lock' AND w.wait_event <> 'advisory' ORDER BY b.pid"
)


class _LockWatcher:
    """Says, once per set of blockers, that the run waits for another client's lock."""

    PATIENCE = 2.0  # seconds: a lock held briefly is normal and not worth a line
    POLL = 0.5

    def __init__(self, engine: Engine, pid: int, notify: Callable[[str], None]) -> None:
        self._engine, self._pid, self._notify = engine, pid, notify
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="seedkit-lock-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _watch(self) -> None:
        told: tuple[int, ...] = ()
        since: dict[tuple[int, ...], float] = {}
        try:
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                while not self._stopped.wait(self.POLL):
                    blockers = conn.execute(_BLOCKERS, {"pid": self._pid}).all()
                    pids = tuple(row.pid for row in blockers)
                    first = since.setdefault(pids, time.monotonic())
                    if pids and pids != told and time.monotonic() - first >= self.PATIENCE:
                        told = pids
                        held = "; ".join(f"pid {r.pid} ({r.who}: {' '.join(r.query.split())})" for r in blockers)
                        self._notify(f"waiting for a lock held by {held}")
        except Exception:  # noqa: BLE001 - a watcher that cannot watch must not fail the run
            return
