"""A PostgreSQL database of its own for each worker process of a parallel test run."""

from __future__ import annotations

import atexit
import re

from sqlalchemy import create_engine, make_url, text


def worker_database(url: str, worker: str) -> str:
    """Create (afresh) the database ``<name>_<worker>`` beside ``url``'s; return its URL.

    It is dropped when the process exits. The name is checked before it is quoted, as
    CREATE DATABASE takes no bound parameters.
    """
    base = make_url(url)
    name = f"{base.database}_{worker}"
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise ValueError(f"unexpected database name {name!r}")
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)
    return base.set(database=name).render_as_string(hide_password=False)
