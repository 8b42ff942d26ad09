"""Rows through the ORM: model instances added to a session bound to the run's connection.

Slow, but it is what users' ORM events and validators see; it is also how the factory path's
rows (built by factory-boy itself) reach the database.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from seedkit.schema import TableInfo
from seedkit.writers import Immediate


class OrmWriter(Immediate):
    name = "orm"

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.session = Session(bind=conn, autoflush=False, expire_on_commit=False)

    def write(self, info: TableInfo, attrs: tuple[str, ...], rows: Sequence[tuple]) -> None:
        model = info.model
        self.session.add_all(model(**dict(zip(attrs, row, strict=True))) for row in rows)
        self.session.flush()
        # The instances are not needed again; dropping them keeps memory flat.
        self.session.expunge_all()

    def finish(self) -> None:
        self.session.flush()
