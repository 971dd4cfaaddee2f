"""Sessions kept in MongoDB, shared by every process of the app.

One document per session: `_id` is SESSION_KEY_PREFIX + the session id, `data` the session,
`expires_at` its absolute expiry as a BSON date. The back-channel logout index has one
document per (key, session) in `session_index`, used keys one each in `used_keys`. TTL
indexes on `expires_at` have MongoDB delete what has expired, but their sweep runs only
about once a minute, so reads skip expired documents too.
A MongoDB error becomes `SessionStoreUnavailableError`, which the app answers with a 503
page; the driver reconnects by itself once MongoDB is back.
"""

from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError

from .config import Settings
from .session_store import AppSessionStore, StoredSession

COLLECTION = "sessions"
INDEX_COLLECTION = "session_index"
USED_KEYS_COLLECTION = "used_keys"
DEFAULT_DATABASE = "{{ cookiecutter.project_slug }}"  # when MONGODB_URL names none
# Short, so that a visitor gets the 503 page at once when MongoDB is down or unreachable;
# a slow answer from a MongoDB that is up is given longer.
CONNECT_TIMEOUT_MS = 1000
ANSWER_TIMEOUT_MS = 5000
OUTSIDE_LIFESPAN = "the MongoDB session store is opened by the app's lifespan; it has not started"

T = TypeVar("T")
Document = dict[str, Any]


class MongoSessionStore(AppSessionStore):
    kind = "MongoDB"

    def __init__(self, url: str, key_prefix: str) -> None:
        self._url = url
        self._key_prefix = key_prefix
        self._client: AsyncMongoClient[Document] | None = None
        self._has_ttl_indexes = False

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[None]:
        # The client connects on first use, so the app starts even while MongoDB is down.
        self._client = AsyncMongoClient(
            self._url,
            tz_aware=True,  # expiry dates compared with aware datetimes
            serverSelectionTimeoutMS=CONNECT_TIMEOUT_MS,
            connectTimeoutMS=CONNECT_TIMEOUT_MS,
            socketTimeoutMS=ANSWER_TIMEOUT_MS,
        )
        try:
            yield
        finally:
            client, self._client = self._client, None
            await client.aclose()

    def _collection(self, name: str) -> AsyncCollection[Document]:
        if self._client is None:
            raise RuntimeError(OUTSIDE_LIFESPAN)
        return self._client.get_default_database(DEFAULT_DATABASE)[name]

    @property
    def sessions(self) -> AsyncCollection[Document]:
        return self._collection(COLLECTION)

    @property
    def index(self) -> AsyncCollection[Document]:
        return self._collection(INDEX_COLLECTION)

    @property
    def used_keys(self) -> AsyncCollection[Document]:
        return self._collection(USED_KEYS_COLLECTION)

    async def _create_ttl_indexes(self) -> None:
        # Once per process, at the first write rather than at startup: MongoDB may be down then.
        if not self._has_ttl_indexes:
            for collection in (self.sessions, self.index, self.used_keys):
                await self._answer(collection.create_index("expires_at", expireAfterSeconds=0))
            await self._answer(self.index.create_index("key"))
            self._has_ttl_indexes = True

    async def _answer(self, command: Awaitable[T]) -> T:
        try:
            answer = await command
        except PyMongoError as error:
            raise self.unavailable() from error
        self.answered()
        return answer

    async def load(self, session_id: str) -> StoredSession | None:
        now = _now()
        unexpired = {"_id": self._key_prefix + session_id, "expires_at": {"$gt": now}}
        document = await self._answer(self.sessions.find_one(unexpired))
        if document is None:
            return None
        expires_in = (document["expires_at"] - now).total_seconds()
        return StoredSession(document["data"], expires_in=expires_in)

    async def save(self, session_id: str, data: bytes, ttl: int, *, signed_in: bool) -> None:
        await self._create_ttl_indexes()
        document = {"data": data, "expires_at": _now() + timedelta(seconds=ttl)}
        key = {"_id": self._key_prefix + session_id}
        await self._answer(self.sessions.replace_one(key, document, upsert=True))

    async def touch(self, session_id: str, ttl: int) -> None:
        key = {"_id": self._key_prefix + session_id}
        expiry = {"$set": {"expires_at": _now() + timedelta(seconds=ttl)}}
        await self._answer(self.sessions.update_one(key, expiry))

    async def delete(self, session_id: str) -> None:
        await self._answer(self.sessions.delete_one({"_id": self._key_prefix + session_id}))

    async def ping(self) -> None:
        if self._client is None:
            raise RuntimeError(OUTSIDE_LIFESPAN)
        await self._answer(self._client.admin.command("ping"))

    async def link(self, session_id: str, keys: Iterable[str], ttl: int) -> None:
        await self._create_ttl_indexes()
        expires_at = _now() + timedelta(seconds=ttl)
        for key in keys:
            entry = {"key": self._key_prefix + key, "session_id": session_id}
            document = {**entry, "expires_at": expires_at}
            await self._answer(self.index.replace_one(entry, document, upsert=True))

    async def linked(self, key: str) -> set[str]:
        query = {"key": self._key_prefix + key, "expires_at": {"$gt": _now()}}
        documents = await self._answer(self.index.find(query).to_list())
        return {document["session_id"] for document in documents}

    async def linked_sessions(self, key: str) -> dict[str, StoredSession]:
        now = _now()
        index_query = {"key": self._key_prefix + key, "expires_at": {"$gt": now}}
        entries = await self._answer(self.index.find(index_query).to_list())
        if not entries:
            return {}
        ids = [self._key_prefix + entry["session_id"] for entry in entries]
        query = {"_id": {"$in": ids}, "expires_at": {"$gt": now}}
        documents = await self._answer(self.sessions.find(query).to_list())
        return {
            document["_id"].removeprefix(self._key_prefix): StoredSession(
                document["data"], expires_in=(document["expires_at"] - now).total_seconds()
            )
            for document in documents
        }

    async def unlink(self, session_id: str, keys: Iterable[str]) -> None:
        prefixed = [self._key_prefix + key for key in keys]
        query = {"key": {"$in": prefixed}, "session_id": session_id}
        await self._answer(self.index.delete_many(query))

    async def remember(self, key: str, until: float) -> bool:
        await self._create_ttl_indexes()
        document = {"_id": self._key_prefix + key, "expires_at": datetime.fromtimestamp(until, UTC)}
        try:
            await self.used_keys.insert_one(document)
        except DuplicateKeyError:
            return False
        except PyMongoError as error:
            raise self.unavailable() from error
        self.answered()
        return True


def _now() -> datetime:
    return datetime.now(UTC)


def create_session_store(settings: Settings) -> MongoSessionStore:
    return MongoSessionStore(settings.mongodb_url, key_prefix=settings.session_key_prefix)
