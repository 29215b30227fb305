"""Alembic environment: every domain's tables, one connection, one transaction."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import event

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
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        # A migration that rebuilds a table (batch mode) drops the old one; with foreign
        # keys enforced that drop would delete or empty every row referring to it.
        # SQLite's procedure for changing a table turns them off for the change and
        # checks them afterwards (https://www.sqlite.org/lang_altertable.html).
        event.listen(engine, "connect", _foreign_keys_off)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    engine.dispose()


def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


run_migrations_online()
