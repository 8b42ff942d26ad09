"""Alembic environment for the demo schema.

It runs on the connection seedkit passes in ``config.attributes["connection"]`` (so migrating and
seeding share one transaction) and falls back to ``sqlalchemy.url`` for plain ``alembic`` use.
Your own project's env.py needs the same few lines to be seeded in one transaction.
"""

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def run_on(connection) -> None:
    context.configure(connection=connection, target_metadata=None, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as fresh:
        run_on(fresh)
