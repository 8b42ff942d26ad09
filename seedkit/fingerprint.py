"""Stable per-table content hashes: the proof that two databases hold the same data.

Values are canonicalised before hashing so that the same logical rows hash alike on SQLite and
PostgreSQL: decimals without trailing zeros, datetimes in ISO form (aware ones in UTC), JSON
with sorted keys, UUIDs as text. Rows are taken in primary-key order; columns in name order.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, MetaData, Table, select

# seedkit's bookkeeping and Alembic's are not the user's data.
IGNORED_TABLES = frozenset({"alembic_version", "seedkit_runs"})


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    hash: str


@dataclass(frozen=True)
class Fingerprint:
    tables: dict[str, TableFingerprint]
    overall: str

    def to_json(self) -> dict[str, Any]:
        return {
            "tables": {name: {"rows": t.rows, "hash": t.hash} for name, t in self.tables.items()},
            "overall": self.overall,
        }


def _canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return "d:" + format(value.normalize(), "f")
    if isinstance(value, float):
        return "d:" + format(decimal.Decimal(repr(value)).normalize(), "f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return "t:" + value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return "t:" + value.isoformat()
    if isinstance(value, uuid.UUID):
        return "u:" + str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b:" + base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return "s:" + str(value)


def table_fingerprint(conn: Connection, table: Table) -> TableFingerprint:
    columns = sorted(table.columns, key=lambda c: c.name)
    order = list(table.primary_key.columns) or columns
    digest = hashlib.sha256()
    count = 0
    result = conn.execute(select(*columns).order_by(*order), execution_options={"yield_per": 10_000})
    for row in result:
        digest.update(json.dumps([_canonical(v) for v in row], sort_keys=True, separators=(",", ":")).encode())
        digest.update(b"\n")
        count += 1
    return TableFingerprint(rows=count, hash=digest.hexdigest())


def fingerprint(conn: Connection, tables: list[str] | None = None) -> Fingerprint:
    """Fingerprint every user table (or just ``tables``) reachable on ``conn``."""
    metadata = MetaData()
    metadata.reflect(conn, only=tables)
    result = {}
    for name in sorted(metadata.tables):
        if name not in IGNORED_TABLES:
            result[name] = table_fingerprint(conn, metadata.tables[name])
    overall = hashlib.sha256(
        json.dumps({n: [t.rows, t.hash] for n, t in result.items()}, sort_keys=True).encode()
    ).hexdigest()
    return Fingerprint(tables=result, overall=overall)
