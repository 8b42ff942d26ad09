"""DB-API ``executemany`` of prepared rows: SQLite's fastest path, and a portable one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from seedkit.schema import TableInfo
from seedkit.writers import Immediate, bind_processors, encode, target


class ExecutemanyWriter(Immediate):
    name = "executemany"

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._statements: dict[tuple[str, tuple[str, ...]], tuple[str, list]] = {}

    def _statement(self, info: TableInfo, attrs: tuple[str, ...]) -> tuple[str, list]:
        key = (info.name, attrs)
        if key not in self._statements:
            marker = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"
            sql = f"INSERT INTO {target(self.conn, info, attrs)} VALUES ({', '.join([marker] * len(attrs))})"
            self._statements[key] = (sql, bind_processors(self.conn, info, attrs))
        return self._statements[key]

    def write(self, info: TableInfo, attrs: tuple[str, ...], rows: Sequence[tuple]) -> None:
        if not rows:
            return
        sql, processors = self._statement(info, attrs)
        self.conn.exec_driver_sql(sql, list(encode(rows, processors)))
