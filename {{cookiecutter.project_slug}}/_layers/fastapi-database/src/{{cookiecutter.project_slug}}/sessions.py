"""Sessions in a SQL database, SQLite or PostgreSQL, on SQLAlchemy's async engine.

Every session is one row of the `sessions` table: `id` (SESSION_KEY_PREFIX + the session id),
`data` and `expires_at` (Unix time, indexed). The back-channel logout index is the
`session_index` table (a row per key and session), used keys the `used_keys` table. The
tables are created when the store is first used rather than at startup, so the app starts
while the database is down. A row past its `expires_at` reads as missing; each process
deletes such rows once every CLEANUP_INTERVAL, as it saves a session. A database error
becomes `SessionStoreUnavailableError`, which the app answers with a 503 page; the engine
reconnects by itself once the database is back.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .config import Settings
from .session_store import AppSessionStore, StoredSession

# Short, so that a visitor gets the 503 page at once when the database is down.
CONNECT_TIMEOUT_SECONDS = 2  # libpq's minimum
CLEANUP_INTERVAL = 3600.0  # seconds between two deletions of expired rows, per process
OUTSIDE_LIFESPAN = "the database session store is opened by the app's lifespan; it has not started"

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


class DatabaseSessionStore(AppSessionStore):
    kind = "SQL database"

    def __init__(self, url: str, key_prefix: str) -> None:
        self.url = async_database_url(url)
        self._key_prefix = key_prefix
        self._engine: AsyncEngine | None = None
        self._has_table = False
        self._table_lock = asyncio.Lock()
        self.next_cleanup = time.monotonic() + CLEANUP_INTERVAL

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[None]:
        self._engine = create_engine(self.url)
        try:
            yield
        finally:
            engine, self._engine = self._engine, None
            await engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError(OUTSIDE_LIFESPAN)
        return self._engine

    async def _run(self, operation: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `operation` on a pooled connection, once more if the database had dropped it."""
        for attempt in (1, 2):
            try:
                async with self.engine.connect() as connection:
                    await self._create_table(connection)
                    result = await operation(connection)
            except DBAPIError as error:
                # A connection the database closed (say, it restarted) is found out only when
                # used; SQLAlchemy then empties the pool, and the retry reconnects.
                if attempt == 1 and error.connection_invalidated:
                    continue
                raise self.unavailable() from error
            except (SQLAlchemyError, OSError) as error:
                raise self.unavailable() from error
            self.answered()
            return result
        raise AssertionError("unreachable")

    async def _create_table(self, connection: AsyncConnection) -> None:
        if self._has_table:
            return
        async with self._table_lock:
            if not self._has_table:
                # IF NOT EXISTS: several processes may start at once.
                for table in metadata.sorted_tables:
                    await connection.execute(sa.schema.CreateTable(table, if_not_exists=True))
                    for index in table.indexes:
                        await connection.execute(sa.schema.CreateIndex(index, if_not_exists=True))
                self._has_table = True

    async def load(self, session_id: str) -> StoredSession | None:
        now = time.time()
        query = sa.select(sessions_table.c.data, sessions_table.c.expires_at).where(
            sessions_table.c.id == self._key_prefix + session_id,
            sessions_table.c.expires_at > now,
        )
        result = await self._run(lambda connection: connection.execute(query))
        row = result.first()
        return None if row is None else StoredSession(row.data, expires_in=row.expires_at - now)

    async def save(self, session_id: str, data: bytes, ttl: int, *, signed_in: bool) -> None:
        values: dict[str, Any] = {"data": data, "expires_at": time.time() + ttl}
        upsert = (
            self._insert(sessions_table)
            .values(id=self._key_prefix + session_id, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
        await self._run(lambda connection: connection.execute(upsert))
        if time.monotonic() >= self.next_cleanup:
            await self.delete_expired()

    async def touch(self, session_id: str, ttl: int) -> None:
        update = (
            sa.update(sessions_table)
            .where(sessions_table.c.id == self._key_prefix + session_id)
            .values(expires_at=time.time() + ttl)
        )
        await self._run(lambda connection: connection.execute(update))

    async def delete(self, session_id: str) -> None:
        delete = sa.delete(sessions_table).where(
            sessions_table.c.id == self._key_prefix + session_id
        )
        await self._run(lambda connection: connection.execute(delete))

    async def delete_expired(self) -> int:
        """Delete the rows past their expiry (of every app sharing the tables).

        Returns how many sessions went.
        """
        self.next_cleanup = time.monotonic() + CLEANUP_INTERVAL
        now = time.time()
        for table in (index_table, used_keys_table):
            delete = sa.delete(table).where(table.c.expires_at <= now)
            await self._run(lambda connection, delete=delete: connection.execute(delete))
        delete = sa.delete(sessions_table).where(sessions_table.c.expires_at <= now)
        result = await self._run(lambda connection: connection.execute(delete))
        return result.rowcount

    async def ping(self) -> None:
        await self._run(lambda connection: connection.execute(sa.text("SELECT 1")))

    async def link(self, session_id: str, keys: Iterable[str], ttl: int) -> None:
        expires_at = time.time() + ttl
        rows = [{"key": self._key_prefix + key, "session_id": session_id} for key in keys]
        for row in rows:
            upsert = (
                self._insert(index_table)
                .values(**row, expires_at=expires_at)
                .on_conflict_do_update(
                    index_elements=["key", "session_id"], set_={"expires_at": expires_at}
                )
            )
            await self._run(lambda connection, upsert=upsert: connection.execute(upsert))

    async def linked(self, key: str) -> set[str]:
        query = sa.select(index_table.c.session_id).where(
            index_table.c.key == self._key_prefix + key, index_table.c.expires_at > time.time()
        )
        return set(await self._run(lambda connection: connection.scalars(query)))

    async def linked_sessions(self, key: str) -> dict[str, StoredSession]:
        now = time.time()
        # One query: the index entries joined to the sessions they name (by their row id).
        row_id = self._key_prefix + index_table.c.session_id
        query = (
            sa.select(index_table.c.session_id, sessions_table.c.data, sessions_table.c.expires_at)
            .join(sessions_table, sessions_table.c.id == row_id)
            .where(
                index_table.c.key == self._key_prefix + key,
                index_table.c.expires_at > now,
                sessions_table.c.expires_at > now,
            )
        )
        result = await self._run(lambda connection: connection.execute(query))
        return {
            row.session_id: StoredSession(row.data, expires_in=row.expires_at - now)
            for row in result
        }

    async def unlink(self, session_id: str, keys: Iterable[str]) -> None:
        delete = sa.delete(index_table).where(
            index_table.c.key.in_([self._key_prefix + key for key in keys]),
            index_table.c.session_id == session_id,
        )
        await self._run(lambda connection: connection.execute(delete))

    async def remember(self, key: str, until: float) -> bool:
        now = time.time()
        # Inserted, or taking the place of a used key that has expired: a first use.
        claim = (
            self._insert(used_keys_table)
            .values(key=self._key_prefix + key, expires_at=until)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={"expires_at": until},
                where=used_keys_table.c.expires_at <= now,
            )
            .returning(used_keys_table.c.key)
        )
        result = await self._run(lambda connection: connection.execute(claim))
        return result.first() is not None

    @property
    def _insert(self) -> Callable[[sa.Table], Any]:
        # An upsert for either database; both spell it the same way.
        return postgresql.insert if self.url.get_backend_name() == "postgresql" else sqlite.insert


def async_database_url(url: str) -> sa.URL:
    """DATABASE_URL with an async driver: aiosqlite for SQLite, psycopg 3 for PostgreSQL."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine(url: sa.URL) -> AsyncEngine:
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            # A relative path counts from the directory the app runs in, as SQLite's does.
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {}
    else:
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    # Every statement stands alone: no transaction to begin and roll back around it.
    return create_async_engine(url, isolation_level="AUTOCOMMIT", connect_args=connect_args)


def create_session_store(settings: Settings) -> DatabaseSessionStore:
    return DatabaseSessionStore(settings.database_url, key_prefix=settings.session_key_prefix)
