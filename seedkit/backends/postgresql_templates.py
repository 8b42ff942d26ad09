"""Templates as databases on the target's own server: ``CREATE DATABASE … TEMPLATE``.

A template is a database named ``seedkit_tpl_<key>`` whose comment holds its description and
which accepts no connections (a session on a template would block every clone of it). Copies
are made from a maintenance connection to the ``postgres`` database, since PostgreSQL copies a
database only while no session is connected to it, and renames one only from elsewhere.

The target is replaced in one transaction that renames it away and renames the finished copy
into its place: a session that connects sees the old database or the new one, and a process
killed at any point leaves one of them under the target's name (and, at worst, a
``seedkit_new_…`` or ``seedkit_old_…`` database that ``seedkit cache clear`` removes).
"""

from __future__ import annotations

import psycopg.errors
from psycopg import sql
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from seedkit.errors import CacheSkipped, TargetRefused, TargetUnavailable
from seedkit.safety import mask_url
from seedkit.templates import (
    KEY_CHARS,
    SCRATCH_PREFIXES,
    TEMPLATE_PREFIX,
    Notify,
    Prepare,
    Restored,
    Template,
    TemplateStore,
    fingerprint_at,
    scratch_name,
)

# Databases from this size up are copied with STRATEGY FILE_COPY, smaller ones through the WAL
# (STRATEGY WAL_LOG, PostgreSQL 15's default). Measured here, cached resets of the 151 MB demo
# alternating the two, six each: 0.36 s (median, in-command) with FILE_COPY, 0.60 s with
# WAL_LOG, which writes the whole copy to the WAL; FILE_COPY's checkpoint costs more right after
# a large seed. On the 8 MB demo WAL_LOG is the faster (0.02-0.10 s against 0.04-0.14 s for
# one clone). bench/run.py prints one clone by each.
FILE_COPY_BYTES = 64 * 1024 * 1024
# A swap is retried this often when a client reconnects between ending sessions and renaming.
SWAP_ATTEMPTS = 5
# How long ending one session may take before the swap gives up on it (milliseconds).
TERMINATE_MS = 5000
_MAINTENANCE_DATABASES = ("postgres", "template1")

_SESSIONS = text(
    "SELECT pid, coalesce(nullif(application_name, ''), usename) AS who, client_addr "
    "FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid() ORDER BY pid"
)
_DESCRIBED = text(
    "SELECT datname, shobj_description(oid, 'pg_database') AS comment, pg_database_size(oid) AS size "
    "FROM pg_database WHERE datname LIKE :pattern ORDER BY datname"
)


def on_database(url: URL, database: str) -> URL:
    """``url`` pointed at another database of the same server (libpq's ``dbname`` query too)."""
    query = {k: v for k, v in url.query.items() if k != "dbname"}
    return url.set(database=database, query=query)


class PostgreSQLTemplates(TemplateStore):
    def __init__(self, url: URL, target: str) -> None:
        self._url, self._target = url, target
        self._admin = self._maintenance_engine()

    def _maintenance_engine(self):
        failure: OperationalError | None = None
        for database in _MAINTENANCE_DATABASES:
            engine = create_engine(on_database(self._url, database), isolation_level="AUTOCOMMIT", poolclass=NullPool)
            try:
                engine.connect().close()
                return engine
            except OperationalError as exc:
                failure = exc
        reason = str(getattr(failure, "orig", failure)).strip().splitlines()[0]
        raise TargetUnavailable(
            f"The template cache needs a connection to the server's postgres database ({mask_url(self._url)}): {reason}"
        )

    def close(self) -> None:
        self._admin.dispose()

    def _quote(self, conn: Connection, name: str) -> str:
        return conn.dialect.identifier_preparer.quote(name)

    def server_version(self) -> str:
        with self._admin.connect() as conn:
            return str(conn.exec_driver_sql("SHOW server_version_num").scalar())

    def _described(self, pattern: str) -> list[Template]:
        with self._admin.connect() as conn:
            rows = conn.execute(_DESCRIBED, {"pattern": pattern}).all()
        found = (Template.read(row.comment or "", name=row.datname, size=row.size) for row in rows)
        return [t for t in found if t is not None]

    def find(self, key: str) -> Template | None:
        found = self._described(TEMPLATE_PREFIX + key[:KEY_CHARS])
        return next((t for t in found if t.key == key), None)

    def all(self) -> list[Template]:
        return self._described(TEMPLATE_PREFIX.replace("_", r"\_") + "%")

    def target_exists(self) -> bool:
        with self._admin.connect() as conn:
            return bool(conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": self._target}).first())

    def _sessions(self, conn: Connection, database: str) -> list:
        return conn.execute(_SESSIONS, {"d": database}).all()

    def _copy(self, conn: Connection, source: str, copy: str) -> None:
        size = conn.execute(text("SELECT pg_database_size(:d)"), {"d": source}).scalar_one()
        strategy = "FILE_COPY" if size >= FILE_COPY_BYTES else "WAL_LOG"
        supports = conn.exec_driver_sql("SHOW server_version_num").scalar_one()
        with_strategy = f" STRATEGY = {strategy}" if int(supports) >= 150000 else ""
        q = self._quote
        conn.exec_driver_sql(f"CREATE DATABASE {q(conn, copy)} TEMPLATE {q(conn, source)}{with_strategy}")

    def _drop(self, name: str) -> None:
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {self._quote(conn, name)} WITH (FORCE)")

    def keep(self, template: Template) -> Template:
        scratch: str | None = scratch_name("new")
        name = TEMPLATE_PREFIX + template.key[:KEY_CHARS]
        try:
            with self._admin.connect() as conn:
                try:
                    self._copy(conn, self._target, scratch)
                except DBAPIError as exc:
                    if not isinstance(exc.orig, psycopg.errors.ObjectInUse):
                        raise
                    others = len(self._sessions(conn, self._target))
                    raise CacheSkipped(
                        f"{others} other session(s) are connected to {self._target}, and PostgreSQL copies a "
                        "database only when no one is; the next --cache run will try again"
                    ) from None
            if fingerprint_at(on_database(self._url, scratch)) != template.fingerprint:
                raise CacheSkipped(f"{self._target} changed after the run committed (another client wrote to it)")
            with self._admin.connect() as conn:
                q = self._quote
                described = sql.Literal(template.describe()).as_string(conn.connection.driver_connection)
                conn.exec_driver_sql(f"COMMENT ON DATABASE {q(conn, scratch)} IS {described}")
                conn.exec_driver_sql(f"ALTER DATABASE {q(conn, scratch)} ALLOW_CONNECTIONS false")
                try:
                    conn.exec_driver_sql(f"ALTER DATABASE {q(conn, scratch)} RENAME TO {q(conn, name)}")
                except DBAPIError as exc:
                    if not isinstance(exc.orig, psycopg.errors.DuplicateDatabase):
                        raise  # otherwise another run kept the same data first: keep theirs
                else:
                    scratch = None
            kept = self.find(template.key)
            if kept is None:
                raise CacheSkipped(f"template {name} disappeared while it was being kept")
            return kept
        finally:
            if scratch is not None:
                self._drop(scratch)

    def restore(self, template: Template, *, end_sessions: bool, prepare: Prepare, notify: Notify) -> Restored:
        scratch: str | None = scratch_name("new")
        try:
            notify(f"cloning template {template.name} into {scratch}")
            with self._admin.connect() as conn:
                self._copy(conn, template.name, scratch)
            prepare(on_database(self._url, scratch))
            restored = Restored(template)
            with self._admin.connect() as conn:
                notify(f"replacing {self._target} by {scratch}")
                restored.sessions_ended = self._swap(conn, scratch, end_sessions, notify)
            scratch = None
            return restored
        finally:
            if scratch is not None:
                self._drop(scratch)

    def _swap(self, conn: Connection, copy: str, end_sessions: bool, notify: Notify) -> int:
        """Rename the target away and ``copy`` into its place in one transaction; drop the old one."""
        q, target = self._quote, self._target
        sessions = self._sessions(conn, target)
        if sessions and not end_sessions:
            listing = ", ".join(
                f"pid {s.pid} ({s.who}{f' from {s.client_addr}' if s.client_addr else ''})" for s in sessions[:5]
            )
            more = f" and {len(sessions) - 5} more" if len(sessions) > 5 else ""
            raise TargetRefused(
                f"{len(sessions)} session(s) are connected to {target}: {listing}{more}. Replacing the database ends "
                "them: pass --yes to do so, or close them first. Nothing was changed."
            )
        old = scratch_name("old")
        ended = 0
        for attempt in range(SWAP_ATTEMPTS):
            for session in self._sessions(conn, target):
                ended += bool(
                    conn.execute(
                        text("SELECT pg_terminate_backend(:p, :t)"), {"p": session.pid, "t": TERMINATE_MS}
                    ).scalar()
                )
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target}).first()
            try:
                conn.exec_driver_sql("BEGIN")
                if exists:
                    conn.exec_driver_sql(f"ALTER DATABASE {q(conn, target)} RENAME TO {q(conn, old)}")
                conn.exec_driver_sql(f"ALTER DATABASE {q(conn, copy)} RENAME TO {q(conn, target)}")
                conn.exec_driver_sql("COMMIT")
                break
            except DBAPIError as exc:
                conn.exec_driver_sql("ROLLBACK")
                if not isinstance(exc.orig, psycopg.errors.ObjectInUse) or attempt == SWAP_ATTEMPTS - 1:
                    raise
        notify(f"replaced {target}")
        if exists:
            conn.exec_driver_sql(f"DROP DATABASE {q(conn, old)} WITH (FORCE)")
        return ended

    def copy(self, template: Template, database: str) -> URL:
        with self._admin.connect() as conn:
            self._copy(conn, template.name, database)
        return on_database(self._url, database)

    def discard(self, url: URL) -> None:
        self._drop(url.database or "")

    def drop(self, template: Template) -> None:
        self._drop(template.name)

    def drop_scratch(self) -> list[str]:
        patterns = [p.replace("_", r"\_") + "%" for p in SCRATCH_PREFIXES]
        with self._admin.connect() as conn:
            names = [
                row.datname
                for pattern in patterns
                for row in conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": pattern})
            ]
        for name in names:
            self._drop(name)
        return names
