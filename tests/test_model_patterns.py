"""The patterns users test on their own models hold on seeded data, on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seedkit.loader import load_recipe
from tests.conftest import cli, schema_of


@pytest.fixture
def seeded(db_url):
    assert cli("run", "demo", "--seed", "42", "-q", "--database-url", db_url).exit_code == 0
    # The demo models, as seedkit imported them from the recipes folder.
    models = sys.modules[load_recipe(Path("recipes"), "demo").steps[0].model.__module__]
    engine = create_engine(db_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA foreign_keys = ON"))
    yield engine, models
    engine.dispose()


def test_relationships_after_reload(seeded):
    engine, m = seeded
    with Session(engine) as session:
        order = session.scalars(select(m.Order).order_by(m.Order.id)).first()
        assert order.user.id == order.user_id
        assert order in order.user.orders
        assert order.items and all(item.unit_price == item.product.price for item in order.items)


def test_new_rows_after_seeding_get_fresh_ids(seeded):
    engine, m = seeded
    with Session(engine) as session:
        highest = session.scalar(select(func.max(m.User.id)))
        user = m.User(email="new@example.org", username="new", name="New", created_at=func.now())
        session.add(user)
        session.commit()
        assert user.id > highest


def test_cascade_delete_removes_tasks(seeded):
    engine, m = seeded
    with Session(engine) as session:
        project = session.scalars(select(m.Project).where(m.Project.tasks.any())).first()
        project_id = project.id
        session.delete(project)
        session.commit()
        assert session.scalar(select(func.count()).where(m.Task.project_id == project_id)) == 0


def test_unique_violation_raises_integrity_error(seeded):
    engine, m = seeded
    with Session(engine) as session:
        taken = session.scalar(select(m.User.email).limit(1))
        session.add(m.User(email=taken, username="dup", name="Dup", created_at=func.now()))
        with pytest.raises(IntegrityError):
            session.commit()


def test_foreign_key_violation_raises_integrity_error(seeded):
    engine, m = seeded
    with Session(engine) as session:
        session.add(m.Order(user_id=10**6, status="paid", created_at=func.now()))
        with pytest.raises(IntegrityError):
            session.commit()


def test_seeding_leaves_the_schema_as_the_migrations_made_it(seeded, db_url, another_db):
    # `seeded` used the default writer: on PostgreSQL, COPY drops keys, indexes and foreign keys
    # around the load and must put every one of them back.
    pristine = another_db(db_url)
    assert cli("migrate", "--database-url", pristine).exit_code == 0
    assert schema_of(db_url) == schema_of(pristine)
    primary_key, indexes, _, _ = schema_of(db_url)["order_items"]
    assert primary_key["constrained_columns"] == ["id"]
    assert any(index[0] == "ix_order_items_order_id" for index in indexes)
