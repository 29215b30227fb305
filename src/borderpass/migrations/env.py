"""Alembic environment: every domain's tables, one connection, one transaction."""

from __future__ import annotations

from alembic import context

from borderpass.kit.db import engine_for
from borderpass.models import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_for(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
