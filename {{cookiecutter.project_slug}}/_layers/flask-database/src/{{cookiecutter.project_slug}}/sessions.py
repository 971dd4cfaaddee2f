"""Server-side sessions in a SQL database: SQLite (the default) or PostgreSQL.

Every session is one row of the `sessions` table: `id` (SESSION_KEY_PREFIX + the session
id), `data` and `expires_at` (Unix time, indexed). A signed-in session is indexed for
back-channel logout and the devices page in `session_index`: a row per `key`
(`sub:<Logto user id>`, and `sid:<Logto session id>` when Logto sends one) and
`session_id` (the session's `id`), with the session's expiry. `used_keys` keeps each
logout token's id until the token expires. The FastAPI flavour of this template uses the
same tables.

The app creates the tables when it first needs them, so it starts while the database is
down. A row past `expires_at` reads as missing; `flask delete-expired-sessions` deletes
such rows (run it from cron), and each process also deletes them once every
CLEANUP_INTERVAL, along with a session it saves. A `sessions` table made by an earlier
version of this app needs no migration: its two more columns are nullable, and unused.

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
)
index_table = sa.Table(
    "session_index",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("session_id", sa.String(255), primary_key=True),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)
used_keys_table = sa.Table(
    "used_keys",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)


def index_keys(sign_in: SignIn | None) -> list[str]:
    """The `session_index` keys of a session signed in as `sign_in`: sub:<sub>, sid:<sid>."""
    names = {} if sign_in is None else {"sub": sign_in.subject, "sid": sign_in.provider_session}
    return [f"{name}:{value}" for name, value in names.items() if value is not None]


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
            for table in metadata.sorted_tables:
                connection.execute(sa.schema.CreateTable(table, if_not_exists=True))
                for index in table.indexes:
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
        values = {"data": self.serializer.encode(data), "expires_at": expires_at}
        upsert = (
            self.insert(sessions_table)
            .values(id=store_id, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
        rows = [
            {"key": key, "session_id": store_id, "expires_at": expires_at}
            for key in index_keys(sign_in)
        ]
        index = (
            self.insert(index_table)
            .values(rows)
            .on_conflict_do_update(
                index_elements=["key", "session_id"], set_={"expires_at": expires_at}
            )
        )

        def store(connection: Connection) -> None:
            connection.execute(upsert)
            if rows:
                connection.execute(index)

        self.run(store)
        if time.monotonic() >= self.next_cleanup:
            self.delete_expired()

    def touch(self, store_id: str, expires_at: float, sign_in: SignIn | None) -> None:
        def move_expiry(connection: Connection) -> None:
            for table, column in (
                (sessions_table, sessions_table.c.id),
                (index_table, index_table.c.session_id),
            ):
                update = sa.update(table).where(column == store_id).values(expires_at=expires_at)
                connection.execute(update)

        self.run(move_expiry)

    def delete(self, store_id: str, sign_in: SignIn | None) -> None:
        def delete(connection: Connection) -> None:
            connection.execute(sa.delete(sessions_table).where(sessions_table.c.id == store_id))
            connection.execute(sa.delete(index_table).where(index_table.c.session_id == store_id))

        self.run(delete)

    def signed_in_sessions(self, logout: LogoutToken) -> list[tuple[str, SignIn]]:
        key = f"sid:{logout.sid}" if logout.sid is not None else f"sub:{logout.sub}"
        query = sa.select(index_table.c.session_id).where(
            index_table.c.key == key,
            index_table.c.session_id.startswith(self.key_prefix, autoescape=True),
            index_table.c.expires_at > time.time(),
        )
        store_ids = self.run(lambda connection: connection.scalars(query).all())
        return [(store_id, SignIn(logout.sub, logout.sid)) for store_id in store_ids]

    def subject_sessions(self, subject: str) -> list[tuple[str, bytes, float]]:
        query = (
            sa.select(sessions_table.c.id, sessions_table.c.data, sessions_table.c.expires_at)
            .join(index_table, index_table.c.session_id == sessions_table.c.id)
            .where(
                index_table.c.key == f"sub:{subject}",
                index_table.c.session_id.startswith(self.key_prefix, autoescape=True),
                sessions_table.c.expires_at > time.time(),
            )
        )
        rows = self.run(lambda connection: connection.execute(query).all())
        return [(row.id, row.data, row.expires_at) for row in rows]

    def remember(self, key: str, until: float) -> bool:
        insert = (
            self.insert(used_keys_table)
            .values(key=key, expires_at=until)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(used_keys_table.c.key)  # a row only when inserted
        )
        return self.run(lambda connection: connection.execute(insert).first()) is not None

    def delete_expired(self) -> int:
        """Delete the rows past their expiry (of every app sharing the tables); how many
        sessions went."""
        self.next_cleanup = time.monotonic() + CLEANUP_INTERVAL
        now = time.time()

        def delete_expired(connection: Connection) -> int:
            for table in (index_table, used_keys_table):
                connection.execute(sa.delete(table).where(table.c.expires_at <= now))
            delete = sa.delete(sessions_table).where(sessions_table.c.expires_at <= now)
            return connection.execute(delete).rowcount

        return self.run(delete_expired)

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
