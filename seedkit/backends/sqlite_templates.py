"""Templates as files in the cache folder: SQLite's backup API, then ``os.replace``.

A template is ``seedkit_tpl_<key>.sqlite`` with its description in ``seedkit_tpl_<key>.json``
beside it. A copy is written page by page with ``sqlite3.Connection.backup`` under a temporary
name in the destination's folder, then renamed over the destination: a rename within one file
system is atomic, so a reader (or a killed process) finds the old file or the new one.

SQLite cannot list the processes that have a file open. One that keeps the old file open goes
on reading (and writing) the old data, which nobody will see again; the README says so.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL

from seedkit.errors import CacheSkipped, TargetRefused, UsageError
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


def _copy(source: Path, destination: Path) -> None:
    """A consistent copy of ``source`` (read under its own read lock), fsynced before it is used."""
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    writer = sqlite3.connect(destination)
    try:
        reader.backup(writer)
        writer.execute("PRAGMA journal_mode = DELETE")  # a copy of a WAL database stands alone
    finally:
        writer.close()
        reader.close()
    with open(destination, "rb") as handle:
        os.fsync(handle.fileno())


def _settle(path: Path) -> None:
    """Fold a hot journal or a WAL file into ``path`` before it is replaced, so that neither is
    ever applied to the new file; a WAL that stays means another process has the file open."""
    if not path.exists():
        return
    connection = sqlite3.connect(path)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.OperationalError as exc:
        raise TargetRefused(
            f"{path} is in use by another process ({exc}); close it first. Nothing was changed."
        ) from None
    finally:
        connection.close()


class SQLiteTemplates(TemplateStore):
    def __init__(self, url: URL, folder: Path) -> None:
        database = url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            raise UsageError("--cache needs a SQLite database file (an in-memory database cannot be replaced).")
        self._url, self._target, self._folder = url, Path(database), folder

    def server_version(self) -> str:
        return sqlite3.sqlite_version

    def _files(self, key: str) -> tuple[Path, Path]:
        stem = self._folder / f"{TEMPLATE_PREFIX}{key[:KEY_CHARS]}"
        return stem.with_suffix(".sqlite"), stem.with_suffix(".json")

    def _read(self, description: Path) -> Template | None:
        database = description.with_suffix(".sqlite")
        try:
            text, size = description.read_text(encoding="utf-8"), database.stat().st_size
        except OSError:
            return None
        return Template.read(text, name=str(database), size=size)

    def find(self, key: str) -> Template | None:
        found = self._read(self._files(key)[1])
        return found if found is not None and found.key == key else None

    def all(self) -> list[Template]:
        if not self._folder.is_dir():
            return []
        found = (self._read(path) for path in sorted(self._folder.glob(f"{TEMPLATE_PREFIX}*.json")))
        return [t for t in found if t is not None]

    def target_exists(self) -> bool:
        return self._target.exists()

    def keep(self, template: Template) -> Template:
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheSkipped(f"cannot create the cache folder {self._folder}: {exc}") from None
        database, description = self._files(template.key)
        scratch = self._folder / f"{scratch_name('new')}.sqlite"
        try:
            _copy(self._target, scratch)
            if fingerprint_at(self._url.set(database=str(scratch))) != template.fingerprint:
                raise CacheSkipped(f"{self._target} changed after the run committed (another process wrote to it)")
            written = scratch.with_suffix(".json")
            written.write_text(template.describe(), encoding="utf-8")
            os.replace(scratch, database)
            os.replace(written, description)  # last: a template without its description is not found
        finally:
            scratch.unlink(missing_ok=True)
            scratch.with_suffix(".json").unlink(missing_ok=True)
        kept = self.find(template.key)
        if kept is None:
            raise CacheSkipped(f"template {database} disappeared while it was being kept")
        return kept

    def restore(self, template: Template, *, end_sessions: bool, prepare: Prepare, notify: Notify) -> Restored:
        scratch = self._target.parent / f"{scratch_name('new')}-{self._target.name}"
        try:
            notify(f"cloning template {template.name} into {scratch}")
            _copy(Path(template.name), scratch)
            prepare(self._url.set(database=str(scratch)))
            _settle(self._target)
            notify(f"replacing {self._target} by {scratch}")
            os.replace(scratch, self._target)
            notify(f"replaced {self._target}")
        finally:
            scratch.unlink(missing_ok=True)
        return Restored(template)

    def copy(self, template: Template, database: str) -> URL:
        _copy(Path(template.name), Path(database))
        return self._url.set(database=database)

    def discard(self, url: URL) -> None:
        Path(url.database or "").unlink(missing_ok=True)

    def drop(self, template: Template) -> None:
        database = Path(template.name)
        database.with_suffix(".json").unlink(missing_ok=True)
        database.unlink(missing_ok=True)

    def drop_scratch(self) -> list[str]:
        folders = {self._folder, self._target.resolve().parent}
        found = [
            path
            for folder in folders
            if folder.is_dir()
            for prefix in SCRATCH_PREFIXES
            for path in folder.glob(f"{prefix}*")
        ]
        for path in found:
            path.unlink(missing_ok=True)
        return [str(path) for path in found]
