"""A Django session engine on MongoDB, through pymongo.

Why not django-mongodb-backend behind a database router: it would bring Django's ORM,
migrations and a second database to keep one kind of record, and it ties the Django version
to the backend's. A SessionBase subclass is all that sessions need: each session is one
document

    {"_id": SESSION_KEY_PREFIX + session id, "data": "<the session as JSON>",
     "expires_at": <BSON date: when the session ends>}

A TTL index on `expires_at` lets MongoDB delete ended sessions; it sweeps about once a
minute, so reads treat a record past `expires_at` as missing meanwhile. pymongo is
synchronous and thread-safe: the async methods run it in worker threads. Any error
reaching MongoDB becomes SessionStoreUnavailable, which the app answers with a 503.
"""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.utils import timezone
from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError

from .errors import SessionStoreUnavailable, store_outage
from .session_engine import JsonSession

_indexed_collections: set[tuple[str, str]] = set()


@functools.cache
def mongo_client(url: str, connect_ms: int, answer_ms: int) -> MongoClient[dict[str, Any]]:
    """One client, and so one connection pool, per process; it reconnects by itself."""
    return MongoClient(
        url,
        serverSelectionTimeoutMS=connect_ms,
        connectTimeoutMS=connect_ms,
        socketTimeoutMS=answer_ms,
        tz_aware=True,
    )


def sessions_collection() -> Collection[dict[str, Any]]:
    store = settings.SESSION_STORE
    client = mongo_client(store["URL"], store["CONNECT_TIMEOUT_MS"], store["ANSWER_TIMEOUT_MS"])
    database = client.get_default_database(store["DATABASE"])
    collection = database[store["COLLECTION"]]
    # Once per process, and again after a failure: the store may have been down at first.
    if (store["URL"], collection.full_name) not in _indexed_collections:
        collection.create_index([("expires_at", ASCENDING)], expireAfterSeconds=0)
        _indexed_collections.add((store["URL"], collection.full_name))
    return collection


@contextmanager
def reaching_mongodb() -> Iterator[None]:
    try:
        yield
    except PyMongoError as error:
        raise SessionStoreUnavailable("MongoDB") from error
    store_outage.answered()


def record_id(session_key: str) -> str:
    return settings.SESSION_STORE["KEY_PREFIX"] + session_key


def unexpired(session_key: str) -> dict[str, Any]:
    return {"_id": record_id(session_key), "expires_at": {"$gt": timezone.now()}}


class SessionStore(JsonSession):
    def load(self) -> dict[str, Any]:
        record = None
        if self.session_key is not None:
            with reaching_mongodb():
                record = sessions_collection().find_one(unexpired(self.session_key))
        if record is None:
            # Unknown or expired: never adopt the id the client sent.
            self._session_key = None
            return {}
        self.stored_until = record["expires_at"]
        return self.decode(record.get("data", ""))

    def exists(self, session_key: str | None) -> bool:
        if not session_key:
            return False
        with reaching_mongodb():
            return sessions_collection().find_one(unexpired(session_key), {"_id": 1}) is not None

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        if self.touch_pending:
            return self.touch()
        fields = {
            "data": self.encode(self._get_session(no_load=must_create)),
            "expires_at": self.get_expiry_date(),
        }
        with reaching_mongodb():
            if must_create:
                try:
                    sessions_collection().insert_one({"_id": record_id(self.session_key), **fields})
                except DuplicateKeyError:
                    raise CreateError from None
            else:
                result = sessions_collection().update_one(
                    {"_id": record_id(self.session_key)}, {"$set": fields}
                )
                if result.matched_count == 0:
                    raise UpdateError  # Deleted meanwhile, by a sign-out elsewhere.
        self._saved(fields["expires_at"])
        return None

    def touch_records(self, session_keys: list[str], until: datetime) -> None:
        # An update of the expiry field only.
        ids = [record_id(session_key) for session_key in session_keys]
        with reaching_mongodb():
            sessions_collection().update_many(
                {"_id": {"$in": ids}}, {"$set": {"expires_at": until}}
            )

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is None:
            return
        with reaching_mongodb():
            sessions_collection().delete_one({"_id": record_id(session_key)})

    @classmethod
    def clear_expired(cls) -> None:
        with reaching_mongodb():
            sessions_collection().delete_many({"expires_at": {"$lte": timezone.now()}})

    # pymongo blocks: run it in worker threads, not in the event loop.

    async def aload(self) -> dict[str, Any]:
        return await sync_to_async(self.load, thread_sensitive=False)()

    async def aexists(self, session_key: str | None) -> bool:
        return await sync_to_async(self.exists, thread_sensitive=False)(session_key)

    async def acreate(self) -> None:
        await sync_to_async(self.create, thread_sensitive=False)()

    async def asave(self, must_create: bool = False) -> None:
        await sync_to_async(self.save, thread_sensitive=False)(must_create)

    async def adelete(self, session_key: str | None = None) -> None:
        await sync_to_async(self.delete, thread_sensitive=False)(session_key)

    @classmethod
    async def aclear_expired(cls) -> None:
        await sync_to_async(cls.clear_expired, thread_sensitive=False)()
