"""The database the tests use: a SQLite file of this run or, when DATABASE_URL names a
PostgreSQL server, a database of this run created on that server and dropped afterwards,
so that parallel runs never share a table."""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI

from {{ cookiecutter.project_slug }}.sessions import sessions_table


def postgresql_server() -> sa.URL | None:
    """The PostgreSQL server that DATABASE_URL names, if it names one."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres:")):
        return None
    return sa.make_url(url).set(drivername="postgresql+psycopg")


def as_text(url: sa.URL) -> str:
    return url.render_as_string(hide_password=False)


@contextmanager
def throwaway_postgresql_database(server: sa.URL) -> Iterator[sa.URL]:
    name = f"test_{uuid.uuid4().hex}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def running_store() -> Iterator[dict[str, Any]]:
    prefix = f"test-{uuid.uuid4().hex}:session:"
    if (server := postgresql_server()) is not None:
        with throwaway_postgresql_database(server) as url:
            yield {"database_url": as_text(url), "session_key_prefix": prefix}
    else:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{directory}/sessions.sqlite3"
            yield {"database_url": url, "session_key_prefix": prefix}


@contextmanager
def database(app: FastAPI) -> Iterator[sa.Connection]:
    """A connection of the tests' own to the app's database."""
    url = sa.make_url(app.state.settings.database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def stored_rows(app: FastAPI) -> dict[str, sa.Row[Any]]:
    """The run's session rows (expired or not) by session id."""
    prefix = app.state.settings.session_key_prefix
    query = sa.select(sessions_table).where(sessions_table.c.id.startswith(prefix))
    with database(app) as connection:
        if not sa.inspect(connection).has_table(sessions_table.name):
            return {}
        return {row.id.removeprefix(prefix): row for row in connection.execute(query)}


def stored_session_ids(app: FastAPI) -> set[str]:
    return set(stored_rows(app))
