"""The MongoDB session store, as the tests see it.

The tests use the MongoDB at MONGODB_URL when the environment sets it (.env's default does
not count); otherwise they start a MongoDB-protocol server of their own (secantus).
"""

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from dotenv import dotenv_values
from pymongo import monitoring
from pymongo.collection import Collection

import config.sessions
from {{ cookiecutter.project_slug }}.session_store import mongo_client

from .servers import PROJECT_DIR, free_port, server_process
from .traffic import Traffic

KEY_PREFIX = f"test-{uuid.uuid4().hex}:session:"


@contextmanager
def mongodb_server(port: int, storage_path: str = ":memory:") -> Iterator[str]:
    """A secantus server on `port`; yields its URL."""
    command = [sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--storage-path", storage_path, "--log-level", "ERROR"]
    with server_process(command, port):
        yield f"mongodb://127.0.0.1:{port}/{{ cookiecutter.project_slug }}_test"


def configured_url() -> str | None:
    """MONGODB_URL when the environment itself sets it, not just .env."""
    url = os.environ.get("MONGODB_URL")
    return url if url and url != dotenv_values(PROJECT_DIR / ".env").get("MONGODB_URL") else None


def store_at(url: str) -> dict[str, Any]:
    """The app's session store settings, at the MongoDB at `url`, with this run's key prefix."""
    return {
        **config.sessions.store(lifetime=settings.SESSION_LIFETIME, key_prefix=KEY_PREFIX),
        "URL": url,
    }


@contextmanager
def mongodb_for_tests() -> Iterator[str]:
    if url := configured_url():
        yield url
    else:
        with mongodb_server(free_port()) as url:
            yield url


@pytest.fixture(scope="session", autouse=True)
def session_store() -> Iterator[None]:
    """Sessions go to this run's MongoDB, under a key prefix of this test run."""
    with mongodb_for_tests() as url, override_settings(SESSION_STORE=store_at(url)):
        yield
        session_records().delete_many({"_id": {"$regex": f"^{KEY_PREFIX}"}})


def session_records() -> Collection[dict[str, Any]]:
    """The app's sessions collection, read through the app's own client."""
    store = settings.SESSION_STORE
    client = mongo_client(store["URL"], store["CONNECT_TIMEOUT_MS"], store["ANSWER_TIMEOUT_MS"])
    return client.get_default_database(store["DATABASE"])[store["COLLECTION"]]


def stored_session_count() -> int:
    return session_records().count_documents({"_id": {"$regex": f"^{KEY_PREFIX}"}})


def app_env() -> dict[str, str]:
    """The environment that points an app process at this run's sessions."""
    return {"MONGODB_URL": settings.SESSION_STORE["URL"], "SESSION_KEY_PREFIX": KEY_PREFIX}


class CommandCounter(monitoring.CommandListener):
    """Counts the commands on the sessions collection that succeed, while `traffic` is set."""

    traffic: Traffic | None = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.traffic is None or event.command.get(event.command_name) != "sessions":
            return
        if event.command_name in {"find", "count", "aggregate"}:
            self.traffic.reads += 1
        elif event.command_name == "update" and all(
            set(update["u"]) == {"$set"} and set(update["u"]["$set"]) == {"expires_at"}
            for update in event.command["updates"]
        ):
            self.traffic.touches += 1
        elif event.command_name in {"insert", "update", "delete", "findAndModify"}:
            self.traffic.writes += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


COMMANDS = CommandCounter()
monitoring.register(COMMANDS)  # for the clients made from now on: the app's is made later


@contextmanager
def store_traffic() -> Iterator[Traffic]:
    """Count the commands the app sends to its sessions collection meanwhile."""
    COMMANDS.traffic = Traffic()
    try:
        yield COMMANDS.traffic
    finally:
        COMMANDS.traffic = None


def store_unreadable_session(session_key: str) -> None:
    """Store bytes that are no session under `session_key`, for an hour."""
    expires_at = timezone.now() + timedelta(hours=1)
    record = {"_id": KEY_PREFIX + session_key, "data": b"\xff\xfe garbage"}
    session_records().insert_one({**record, "expires_at": expires_at})


@contextmanager
def store_down() -> Iterator[None]:
    """The app's MongoDB is out of reach until the block ends."""
    with override_settings(SESSION_STORE=store_at(f"mongodb://127.0.0.1:{free_port()}/app")):
        yield
