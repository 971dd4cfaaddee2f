"""The database the tests use: a SQLite file of this run, or, when DATABASE_URL names a
PostgreSQL server, a database of this run created on it and dropped afterwards."""

import os
import re
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from {{ cookiecutter.project_slug }}.sessions import database_url, sessions_table

from .traffic import Traffic

# The PostgreSQL database of this run, once created.
run_database: list[sa.URL] = []


def postgresql_server() -> sa.URL | None:
    """The PostgreSQL server named by DATABASE_URL, if it names one."""
    url = os.environ.get("DATABASE_URL", "")
    return database_url(url) if url.startswith(("postgresql", "postgres:")) else None


@contextmanager
def throwaway_postgresql_database(server: sa.URL) -> Iterator[sa.URL]:
    """A new database on `server`, so that parallel runs never share a table."""
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
def running_store() -> Iterator[dict[str, object]]:
    """Settings for a database of this run, and a key prefix of its own."""
    prefix = f"test-{uuid.uuid4().hex}:session:"
    if (server := postgresql_server()) is not None:
        with throwaway_postgresql_database(server) as url:
            run_database.append(url)
            yield {"database_url": as_text(url), "session_key_prefix": prefix}
    else:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{directory}/sessions.sqlite3"
            yield {"database_url": url, "session_key_prefix": prefix}


def stored_session_ids(app: Flask) -> set[str]:
    """The session ids the app's table holds (expired or not), without the key prefix."""
    interface = app.session_interface
    prefix: str = interface.key_prefix  # type: ignore[attr-defined]
    query = sa.select(sessions_table.c.id).where(sessions_table.c.id.startswith(prefix))
    with interface.engine.connect() as connection:  # type: ignore[attr-defined]
        if not sa.inspect(connection).has_table(sessions_table.name):
            return set()
        ids = {store_id.removeprefix(prefix) for store_id in connection.scalars(query)}
    return {sid for sid in ids if ":" not in sid}  # not the logout token ids


def stored_expiry(app: Flask, sid: str) -> float:
    """When the session `sid` expires, as its row says (Unix time)."""
    interface = app.session_interface
    store_id = interface.key_prefix + sid  # type: ignore[attr-defined]
    query = sa.select(sessions_table.c.expires_at).where(sessions_table.c.id == store_id)
    with interface.engine.connect() as connection:  # type: ignore[attr-defined]
        return connection.execute(query).scalar_one()


def store_raw(app: Flask, sid: str, data: bytes) -> None:
    """Make the stored session `sid` hold `data`, as it is."""
    interface = app.session_interface
    store_id = interface.key_prefix + sid  # type: ignore[attr-defined]
    update = sa.update(sessions_table).where(sessions_table.c.id == store_id).values(data=data)
    with interface.engine.connect() as connection:  # type: ignore[attr-defined]
        connection.execute(update)


class DatabaseProxy:
    """A port of 127.0.0.1 that forwards to the test's PostgreSQL server.

    Stopping it is the database going down for the app behind it: connections are
    refused, and the ones open are cut.
    """

    def __init__(self, port: int, server: tuple[str, int]) -> None:
        self.port = port
        self.server = server
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self.accept, args=(self.listener,), daemon=True).start()

    def accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            upstream = socket.create_connection(self.server)
            self.connections += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=forward, args=(source, target), daemon=True).start()

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes up accept()
            self.listener.close()
            self.listener = None
        for connection in self.connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self.connections = []


def forward(source: socket.socket, target: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def own_store(port: int, data_dir: Path) -> tuple[DatabaseProxy, dict[str, object]]:
    """The test database behind a proxy on `port` that can go down; and settings that use it."""
    if (server := postgresql_server()) is None:
        pytest.skip("a SQLite file does not go down; run with DATABASE_URL=postgresql://...")
    proxied = run_database[-1].set(host="127.0.0.1", port=port)
    proxy = DatabaseProxy(port, (server.host or "127.0.0.1", server.port or 5432))
    return proxy, {"database_url": as_text(proxied)}


def as_text(url: sa.URL) -> str:
    return url.render_as_string(hide_password=False)


def unreachable_store(port: int) -> dict[str, object]:
    return {"database_url": f"postgresql://postgres@127.0.0.1:{port}/sessions"}


@contextmanager
def store_traffic(app: Flask) -> Iterator[Traffic]:
    """The SQL statements `app` sends to its database meanwhile."""
    engine: sa.Engine = app.session_interface.engine  # type: ignore[attr-defined]
    traffic = Traffic()

    def count(connection, cursor, statement: str, *args: object) -> None:
        is_read = statement.lstrip().upper().startswith("SELECT")
        (traffic.reads if is_read else traffic.writes).append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield traffic
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def is_expiry_update(write: str) -> bool:
    """An UPDATE of the expiry column alone, of the session or of its index rows."""
    expiry_only = (
        r"UPDATE (sessions|session_index) SET expires_at=\S+"
        r" WHERE (sessions\.id|session_index\.session_id) = \S+"
    )
    return re.fullmatch(expiry_only, write) is not None
