"""Seeded databases kept as templates, and the one interface each backend implements for them.

A template is a finished database (data, schema, ``alembic_version``) kept under a name derived
from its :mod:`cache key <seedkit.cache>`, with a small description beside it. A backend keeps
one by copying a target it has just seeded, and replaces a target from one so that nobody ever
sees half of it: the copy is made under a temporary name and swapped in by one atomic rename
(PostgreSQL renames databases in one transaction; SQLite files are swapped with
``os.replace``). The old database or the new one is there at every instant, whatever kills the
process.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import URL

# Prefixes of the names seedkit gives its templates and its temporary copies (databases on a
# PostgreSQL server, files in the cache folder): `cache clear` removes what carries them.
TEMPLATE_PREFIX = "seedkit_tpl_"
SCRATCH_PREFIXES = ("seedkit_new_", "seedkit_old_")
KEY_CHARS = 32  # of the key's hex digest, in names (PostgreSQL allows 63 bytes)


@dataclass(frozen=True)
class Template:
    """What one template holds and what made it; stored beside it as JSON."""

    key: str
    recipe: str
    seed: int
    scale: float
    now: str
    fingerprint: str
    tables: dict[str, int]
    revision: str | None
    project: str  # the project folder whose recipe and migrations made it
    created: str  # ISO 8601, UTC
    name: str = ""  # the database or file it lives in (set by the store)
    size: int = 0  # bytes (set by the store)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def age_seconds(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - datetime.fromisoformat(self.created)).total_seconds()

    def describe(self) -> str:
        """The JSON a store keeps beside the template (its name and size are the store's)."""
        facts = {k: v for k, v in asdict(self).items() if k not in ("name", "size")}
        return json.dumps(facts)

    @classmethod
    def read(cls, text: str, *, name: str, size: int) -> Template | None:
        """The template a description describes, or None if it is not one of ours."""
        try:
            facts: dict[str, Any] = json.loads(text)
            return cls(**facts, name=name, size=size)
        except (TypeError, ValueError):
            return None


@dataclass
class Restored:
    """What replacing a target from a template did."""

    template: Template
    sessions_ended: int = 0


# Called with the URL of the finished copy before it replaces the target: the run writes its
# record (and the target's earlier history) into it, so the swap brings them in at once.
Prepare = Callable[[URL], None]
# Told one line as each stage of a restore begins (the CLI prints them unless --quiet).
Notify = Callable[[str], None]


class TemplateStore:
    """Where one backend keeps templates for one target; see :meth:`Backend.templates`."""

    def server_version(self) -> str:
        """The database engine's version: data written by another version is another key."""
        raise NotImplementedError

    def find(self, key: str) -> Template | None:
        raise NotImplementedError

    def keep(self, template: Template) -> Template:
        """Copy the target into a new template described by ``template``. Raises
        :class:`~seedkit.errors.CacheSkipped` when the copy could not be made or did not hold
        the data the run wrote (``template.fingerprint``)."""
        raise NotImplementedError

    def restore(self, template: Template, *, end_sessions: bool, prepare: Prepare, notify: Notify) -> Restored:
        """Replace the target by a copy of ``template``, atomically. Other sessions on the target
        refuse it (:class:`~seedkit.errors.TargetRefused`, naming them) unless ``end_sessions``."""
        raise NotImplementedError

    def target_exists(self) -> bool:
        raise NotImplementedError

    def copy(self, template: Template, database: str) -> URL:
        """A new database ``database`` (a file, for SQLite) holding a copy of ``template``: the
        pytest plugin gives each test one. Returns its URL."""
        raise NotImplementedError

    def discard(self, url: URL) -> None:
        """Remove a database :meth:`copy` made."""
        raise NotImplementedError

    def all(self) -> list[Template]:
        raise NotImplementedError

    def drop(self, template: Template) -> None:
        raise NotImplementedError

    def drop_scratch(self) -> list[str]:
        """Remove temporary copies an interrupted command left behind; returns their names."""
        raise NotImplementedError

    def close(self) -> None:
        """Let go of the connections the store holds."""


def fingerprint_at(url: URL) -> str:
    """The overall fingerprint of the database at ``url``, read on a connection of its own."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from seedkit.fingerprints import fingerprint

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return fingerprint(conn).overall
    finally:
        engine.dispose()


def scratch_name(kind: str) -> str:
    """A fresh name for a temporary copy (``kind``: ``new`` or ``old``); random, as it names no data."""
    import secrets

    return f"seedkit_{kind}_{secrets.token_hex(6)}"
