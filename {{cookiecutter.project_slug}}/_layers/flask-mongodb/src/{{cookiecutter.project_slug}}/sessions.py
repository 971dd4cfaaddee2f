"""Server-side sessions in MongoDB (Flask-Session's mongodb type, completed).

Every session is one document of the `sessions` collection in the database named in
MONGODB_URL: `id` (SESSION_KEY_PREFIX + the session id, unique), `val` (the data) and
`expiration` (a BSON date: the absolute expiry). Flask-Session's own interface lacks
two things this module adds: a unique index on `id`, and reads that treat an expired
document as missing (MongoDB's TTL monitor deletes expired documents only once a minute).
pymongo reconnects by itself, so sessions work again as soon as MongoDB is back.
"""

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from flask_session.mongodb import MongoDBSessionInterface
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.errors import ConnectionFailure

from .settings import Settings

STORE_KIND = "mongodb"
# Errors that mean "the session store is down" (a 503 page, not a 500).
STORE_ERRORS: tuple[type[Exception], ...] = (ConnectionFailure,)
COLLECTION = "sessions"
# Fail fast when MongoDB is down: a quick 503 beats a page that hangs for 30 seconds.
TIMEOUT_MS = 1000


class ExpiringMongoDBSessionInterface(MongoDBSessionInterface):
    def __init__(self, app: Flask, store: Collection, key_prefix: str) -> None:
        # Skips MongoDBSessionInterface.__init__, which builds its own client when given
        # none and creates its index at once: the app must start while MongoDB is down.
        ServerSideSessionInterface.__init__(self, app, key_prefix=key_prefix)
        self.store = store
        self.use_deprecated_method = False
        self._indexes_created = False

    def create_indexes(self) -> None:
        if not self._indexes_created:
            self.store.create_index("id", unique=True)
            self.store.create_index("expiration", expireAfterSeconds=0)
            self._indexes_created = True

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        document = self.store.find_one({"id": store_id, "expiration": {"$gt": datetime.now(UTC)}})
        return None if document is None else self.serializer.decode(document["val"])

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        self.create_indexes()
        record = {
            "id": store_id,
            "val": self.serializer.encode(session),
            "expiration": datetime.now(UTC) + session_lifetime,
        }
        self.store.update_one({"id": store_id}, {"$set": record}, upsert=True)


def init_sessions(app: Flask, settings: Settings) -> None:
    client: MongoClient = MongoClient(
        settings.mongodb_url,
        serverSelectionTimeoutMS=TIMEOUT_MS,
        connectTimeoutMS=TIMEOUT_MS,
        socketTimeoutMS=2 * TIMEOUT_MS,
        tz_aware=True,
    )
    database = client.get_default_database(default="{{ cookiecutter.project_slug }}")
    app.session_interface = ExpiringMongoDBSessionInterface(
        app, database[COLLECTION], key_prefix=settings.session_key_prefix
    )


def store_is_up(app: Flask) -> bool:
    store: Collection = app.session_interface.store  # type: ignore[attr-defined]
    try:
        store.database.client.admin.command("ping")
    except STORE_ERRORS:
        return False
    return True
