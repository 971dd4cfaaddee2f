"""Server-side sessions in a SQL database: SQLite (the default) or PostgreSQL.

Every session is one row of the `sessions` table: `id` (SESSION_KEY_PREFIX + the session
id), `data`, `expires_at` (Unix time, indexed), and for a signed-in session `subject` and
`provider_session` (Logto's user and session ids, indexed, for back-channel logout). A
logout token's id is a row too, with no data, kept until the token expires.

The app creates the table when it first needs it, so it starts while the database is
down. A row past `expires_at` reads as missing; `flask delete-expired-sessions` deletes
such rows (run it from cron), and each process also deletes them once every
CLEANUP_INTERVAL, along with a session it saves.

This is a small interface on SQLAlchemy Core rather than Flask-Session's `sqlalchemy`
type, which needs Flask-SQLAlchemy and re-creates its table at every start.
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

from .backchannel_logout import LogoutToken
from .session_interface import Record, SignIn, StoreSessionInterface
from .settings import Settings

STORE_KIND = "SQL database"
# Errors that mean "the session store is down" (a 503 page, not a 500).
STORE_ERRORS: tuple[type[Exception], ...] = (sa.exc.OperationalError, sa.exc.InterfaceError)
# Fail fast when the database is down: a quick 503 beats a page that hangs.
CONNECT_TIMEOUT_SECONDS = 2  # libpq's minimum
CLEANUP_INTERVAL = 3600.0  # seconds between two cleanups of expired rows, per process

T = TypeVar("T")

metadata = sa.MetaData()
sessions_table = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
    sa.Column("subject", sa.String(255), index=True),
    sa.Column("provider_session", sa.String(255), index=True),
)


class DatabaseSessionInterface(StoreSessionInterface):
    store_errors = STORE_ERRORS

    def __init__(self, app: Flask, engine: Engine, key_prefix: str, lifetime: int) -> None:
        super().__init__(app, key_prefix=key_prefix, lifetime=lifetime)
        self.engine = engine
        self.table_created = False
        self.next_cleanup = time.monotonic() + CLEANUP_INTERVAL
        # One upsert statement for either database; both spell it the same way.
        self.insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def run(self, operation: Callable[[Connection], T]) -> T:
        """Run `operation` on a pooled connection, retrying once if the database dropped it."""
        try:
            return self.run_once(operation)
        except DBAPIError as error:
            # A connection the database closed (say, it restarted) is found out only when
            # used; SQLAlchemy then empties the pool, and the retry connects afresh.
            if not error.connection_invalidated:
                raise
        return self.run_once(operation)

    def run_once(self, operation: Callable[[Connection], T]) -> T:
        with self.engine.connect() as connection:
            self.create_table(connection)
            return operation(connection)

    def create_table(self, connection: Connection) -> None:
        if not self.table_created:
            # IF NOT EXISTS: several processes may start at once.
            connection.execute(sa.schema.CreateTable(sessions_table, if_not_exists=True))
            for index in sessions_table.indexes:
                connection.execute(sa.schema.CreateIndex(index, if_not_exists=True))
            self.table_created = True

    def load(self, store_id: str) -> Record | None:
        query = sa.select(sessions_table.c.data, sessions_table.c.expires_at).where(
            sessions_table.c.id == store_id, sessions_table.c.expires_at > time.time()
        )
        row = self.run(lambda connection: connection.execute(query).first())
        return None if row is None else Record(self.serializer.decode(row.data), row.expires_at)

    def save(
        self, store_id: str, data: dict[str, Any], expires_at: float, sign_in: SignIn | None
    ) -> None:
        values = {
            "data": self.serializer.encode(data),
            "expires_at": expires_at,
            "subject": sign_in and sign_in.subject,
            "provider_session": sign_in and sign_in.provider_session,
        }
        upsert = (
            self.insert(sessions_table)
            .values(id=store_id, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
        self.run(lambda connection: connection.execute(upsert))
        if time.monotonic() >= self.next_cleanup:
            self.delete_expired()

    def touch(self, store_id: str, expires_at: float, sign_in: SignIn | None) -> None:
        update = (
            sa.update(sessions_table)
            .where(sessions_table.c.id == store_id)
            .values(expires_at=expires_at)
        )
        self.run(lambda connection: connection.execute(update))

    def delete(self, store_id: str, sign_in: SignIn | None) -> None:
        delete = sa.delete(sessions_table).where(sessions_table.c.id == store_id)
        self.run(lambda connection: connection.execute(delete))

    def signed_in_sessions(self, logout: LogoutToken) -> list[tuple[str, SignIn]]:
        columns = sessions_table.c
        query = sa.select(columns.id, columns.subject, columns.provider_session).where(
            columns.id.startswith(self.key_prefix, autoescape=True),
            columns.expires_at > time.time(),
        )
        if logout.sid is not None:
            query = query.where(columns.provider_session == logout.sid)
        if logout.sub is not None:
            query = query.where(columns.subject == logout.sub)
        rows = self.run(lambda connection: connection.execute(query).all())
        return [(row.id, SignIn(row.subject, row.provider_session)) for row in rows]

    def remember(self, key: str, until: float) -> bool:
        insert = (
            self.insert(sessions_table)
            .values(id=key, data=b"", expires_at=until)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(sessions_table.c.id)  # a row only when inserted
        )
        return self.run(lambda connection: connection.execute(insert).first()) is not None

    def delete_expired(self) -> int:
        """Delete the rows past their expiry (of every app sharing the table); how many."""
        self.next_cleanup = time.monotonic() + CLEANUP_INTERVAL
        delete = sa.delete(sessions_table).where(sessions_table.c.expires_at <= time.time())
        return self.run(lambda connection: connection.execute(delete).rowcount)

    def ping(self) -> bool:
        try:
            self.run(lambda connection: connection.execute(sa.text("SELECT 1")))
        except STORE_ERRORS:
            return False
        return True


def database_url(url: str) -> URL:
    """`url` with its driver: psycopg 3 for PostgreSQL (SQLAlchemy would pick psycopg2)."""
    parsed = sa.make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine(url: str) -> Engine:
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {}
    else:
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    # Every statement stands alone: no transaction to begin and roll back around it.
    return sa.create_engine(parsed, isolation_level="AUTOCOMMIT", connect_args=connect_args)


def init_sessions(app: Flask, settings: Settings) -> None:
    interface = DatabaseSessionInterface(
        app,
        create_engine(settings.database_url),
        key_prefix=settings.session_key_prefix,
        lifetime=settings.session_lifetime,
    )
    app.session_interface = interface

    @app.cli.command("delete-expired-sessions")
    def delete_expired_sessions() -> None:
        """Delete the sessions past their expiry from the database."""
        click.echo(f"Deleted {interface.delete_expired()} expired sessions.")
