"""Server-side sessions in MongoDB.

Every session is one document of the `sessions` collection in the database named in
MONGODB_URL: `id` (SESSION_KEY_PREFIX + the session id, unique), `val` (the data),
`expiration` (a BSON date, under a TTL index) and for a signed-in session `subject` and
`provider_session` (Logto's user and session ids, indexed, for back-channel logout and
the devices page). A
logout token's id is a document too, kept until the token expires. MongoDB's TTL monitor
deletes expired documents only once a minute, so reads treat them as missing.
pymongo reconnects by itself, so sessions work again as soon as MongoDB is back.
"""

import re
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.errors import ConnectionFailure, DuplicateKeyError

from .backchannel_logout import LogoutToken
from .session_interface import Record, SignIn, StoreSessionInterface
from .settings import Settings

STORE_KIND = "MongoDB"
# Errors that mean "the session store is down" (a 503 page, not a 500).
STORE_ERRORS: tuple[type[Exception], ...] = (ConnectionFailure,)
COLLECTION = "sessions"
# Fail fast when MongoDB is down: a quick 503 beats a page that hangs for 30 seconds.
TIMEOUT_MS = 1000


def as_date(unix_time: float) -> datetime:
    return datetime.fromtimestamp(unix_time, UTC)


class MongoDBSessionInterface(StoreSessionInterface):
    store_errors = STORE_ERRORS

    def __init__(self, app: Flask, store: Collection, key_prefix: str, lifetime: int) -> None:
        super().__init__(app, key_prefix=key_prefix, lifetime=lifetime)
        self.store = store
        self.indexes_created = False

    def create_indexes(self) -> None:
        # At the first write, not at start: the app must start while MongoDB is down.
        if not self.indexes_created:
            self.store.create_index("id", unique=True)
            self.store.create_index("expiration", expireAfterSeconds=0)
            for field in ("subject", "provider_session"):
                self.store.create_index([(field, ASCENDING)], sparse=True)
            self.indexes_created = True

    def load(self, store_id: str) -> Record | None:
        document = self.store.find_one(
            {"id": store_id, "expiration": {"$gt": datetime.now(UTC)}},
            projection={"_id": False, "val": True, "expiration": True},
        )
        if document is None or "val" not in document:
            return None
        data = self.serializer.decode(document["val"])
        return Record(data, document["expiration"].timestamp())

    def save(
        self, store_id: str, data: dict[str, Any], expires_at: float, sign_in: SignIn | None
    ) -> None:
        self.create_indexes()
        document = {
            "id": store_id,
            "val": self.serializer.encode(data),
            "expiration": as_date(expires_at),
        }
        if sign_in is not None:
            document |= {"subject": sign_in.subject, "provider_session": sign_in.provider_session}
        self.store.replace_one({"id": store_id}, document, upsert=True)

    def touch(self, store_id: str, expires_at: float, sign_in: SignIn | None) -> None:
        self.store.update_one({"id": store_id}, {"$set": {"expiration": as_date(expires_at)}})

    def delete(self, store_id: str, sign_in: SignIn | None) -> None:
        self.store.delete_one({"id": store_id})

    def signed_in_sessions(self, logout: LogoutToken) -> list[tuple[str, SignIn]]:
        query: dict[str, Any] = {
            "id": {"$regex": f"^{re.escape(self.key_prefix)}"},
            "expiration": {"$gt": datetime.now(UTC)},
        }
        if logout.sid is not None:
            query["provider_session"] = logout.sid
        if logout.sub is not None:
            query["subject"] = logout.sub
        documents = self.store.find(query, projection={"id", "subject", "provider_session"})
        return [
            (document["id"], SignIn(document.get("subject"), document.get("provider_session")))
            for document in documents
        ]

    def subject_sessions(self, subject: str) -> list[tuple[str, bytes, float]]:
        documents = self.store.find(
            {
                "subject": subject,
                "id": {"$regex": f"^{re.escape(self.key_prefix)}"},
                "expiration": {"$gt": datetime.now(UTC)},
            },
            projection={"_id": False, "id": True, "val": True, "expiration": True},
        )
        return [
            (document["id"], document["val"], document["expiration"].timestamp())
            for document in documents
        ]

    def remember(self, key: str, until: float) -> bool:
        self.create_indexes()
        try:
            self.store.insert_one({"id": key, "expiration": as_date(until)})
        except DuplicateKeyError:
            return False
        return True

    def ping(self) -> bool:
        try:
            self.store.database.client.admin.command("ping")
        except STORE_ERRORS:
            return False
        return True


def init_sessions(app: Flask, settings: Settings) -> None:
    client: MongoClient = MongoClient(
        settings.mongodb_url,
        serverSelectionTimeoutMS=TIMEOUT_MS,
        connectTimeoutMS=TIMEOUT_MS,
        socketTimeoutMS=2 * TIMEOUT_MS,
        tz_aware=True,
    )
    database = client.get_default_database(default="{{ cookiecutter.project_slug }}")
    app.session_interface = MongoDBSessionInterface(
        app,
        database[COLLECTION],
        key_prefix=settings.session_key_prefix,
        lifetime=settings.session_lifetime,
    )
