"""Sessions kept in MongoDB, shared by every process of the app.

One document per session: `_id` is SESSION_KEY_PREFIX + the session id, `data` the session,
`expires_at` its absolute expiry as a BSON date. A TTL index on `expires_at` has MongoDB
delete expired sessions, but its sweep runs only about once a minute, so reads skip them too.
A MongoDB error becomes `SessionStoreUnavailableError`, which the app answers with a 503
page; the driver reconnects by itself once MongoDB is back.
"""

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError
from starsessions import SessionStore

from .config import Settings
from .errors import SessionStoreUnavailableError

COLLECTION = "sessions"
DEFAULT_DATABASE = "{{ cookiecutter.project_slug }}"  # when MONGODB_URL names none
# Short, so that a visitor gets the 503 page at once when MongoDB is down or unreachable;
# a slow answer from a MongoDB that is up is given longer.
CONNECT_TIMEOUT_MS = 1000
ANSWER_TIMEOUT_MS = 5000
OUTSIDE_LIFESPAN = "the MongoDB session store is opened by the app's lifespan; it has not started"

T = TypeVar("T")
Document = dict[str, Any]


class MongoSessionStore(SessionStore):
    kind = "MongoDB"

    def __init__(self, url: str, key_prefix: str) -> None:
        self._url = url
        self._key_prefix = key_prefix
        self._client: AsyncMongoClient[Document] | None = None
        self._has_ttl_index = False

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[None]:
        # The client connects on first use, so the app starts even while MongoDB is down.
        self._client = AsyncMongoClient(
            self._url,
            serverSelectionTimeoutMS=CONNECT_TIMEOUT_MS,
            connectTimeoutMS=CONNECT_TIMEOUT_MS,
            socketTimeoutMS=ANSWER_TIMEOUT_MS,
        )
        try:
            yield
        finally:
            client, self._client = self._client, None
            await client.aclose()

    @property
    def sessions(self) -> AsyncCollection[Document]:
        if self._client is None:
            raise RuntimeError(OUTSIDE_LIFESPAN)
        return self._client.get_default_database(DEFAULT_DATABASE)[COLLECTION]

    async def _answer(self, command: Awaitable[T]) -> T:
        try:
            return await command
        except PyMongoError as error:
            raise SessionStoreUnavailableError(self.kind) from error

    async def read(self, session_id: str, lifetime: int) -> bytes:
        unexpired = {"_id": self._key_prefix + session_id, "expires_at": {"$gt": _now()}}
        document = await self._answer(self.sessions.find_one(unexpired))
        return document["data"] if document else b""

    async def write(self, session_id: str, data: bytes, lifetime: int, ttl: int) -> str:
        if not self._has_ttl_index:
            # Once per process, at the first write rather than at startup: MongoDB may be down then.
            await self._answer(self.sessions.create_index("expires_at", expireAfterSeconds=0))
            self._has_ttl_index = True
        document = {"data": data, "expires_at": _now() + timedelta(seconds=max(ttl, 1))}
        key = {"_id": self._key_prefix + session_id}
        await self._answer(self.sessions.replace_one(key, document, upsert=True))
        return session_id

    async def remove(self, session_id: str) -> None:
        await self._answer(self.sessions.delete_one({"_id": self._key_prefix + session_id}))

    async def ping(self) -> None:
        if self._client is None:
            raise RuntimeError(OUTSIDE_LIFESPAN)
        await self._answer(self._client.admin.command("ping"))


def _now() -> datetime:
    return datetime.now(UTC)


def create_session_store(settings: Settings) -> MongoSessionStore:
    return MongoSessionStore(settings.mongodb_url, key_prefix=settings.session_key_prefix)
