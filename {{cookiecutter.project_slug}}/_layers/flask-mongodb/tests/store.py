"""The MongoDB the tests use: MONGODB_URL when set, else a SecantusDB server of their own."""

import os
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from pymongo import MongoClient, monitoring

from .servers import StoreProcess, free_port
from .traffic import Traffic

TEST_DATABASE = "{{ cookiecutter.project_slug }}_test"


def test_database_url(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/" + TEST_DATABASE


def secantus(port: int, storage_path: str) -> StoreProcess:
    """A MongoDB-protocol server (PyPI `secantusdb`) on `port`."""
    command = [sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port)]
    return StoreProcess([*command, "--storage-path", storage_path], port)


@contextmanager
def running_store() -> Iterator[dict[str, object]]:
    """Settings for a key prefix no other run uses; its documents are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex}:session:"
    server = None
    url = os.environ.get("MONGODB_URL")
    if url is None:
        port = free_port()
        server = secantus(port, ":memory:")
        server.start()
        url = test_database_url(port)
    try:
        yield {"mongodb_url": url, "session_key_prefix": prefix}
    finally:
        with MongoClient(url) as client:
            sessions = client.get_default_database()["sessions"]
            sessions.delete_many({"id": {"$regex": f"^{re.escape(prefix)}"}})
        if server is not None:
            server.stop()


def stored_session_ids(app: Flask) -> set[str]:
    """The session ids the app's store holds (expired or not), without the key prefix."""
    interface = app.session_interface
    prefix: str = interface.key_prefix  # type: ignore[attr-defined]
    documents = interface.store.find({"id": {"$regex": f"^{re.escape(prefix)}"}})  # type: ignore[attr-defined]
    ids = {document["id"].removeprefix(prefix) for document in documents}
    return {sid for sid in ids if ":" not in sid}  # not the logout token ids


def stored_expiry(app: Flask, sid: str) -> float:
    """When MongoDB lets the session `sid` expire (Unix time)."""
    interface = app.session_interface
    document = interface.store.find_one({"id": interface.key_prefix + sid})  # type: ignore[attr-defined]
    return document["expiration"].timestamp()


def store_raw(app: Flask, sid: str, data: bytes) -> None:
    """Make the stored session `sid` hold `data`, as it is."""
    interface = app.session_interface
    store_id = interface.key_prefix + sid  # type: ignore[attr-defined]
    interface.store.update_one({"id": store_id}, {"$set": {"val": data}})  # type: ignore[attr-defined]


def own_store(port: int, data_dir: Path) -> tuple[StoreProcess, dict[str, object]]:
    """A MongoDB server on `port` whose data survives a restart; and settings that use it."""
    return secantus(port, str(data_dir)), {"mongodb_url": test_database_url(port)}


def unreachable_store(port: int) -> dict[str, object]:
    return {"mongodb_url": test_database_url(port)}


READS = {"find", "aggregate", "count"}
WRITES = {"insert", "update", "delete", "findAndModify", "createIndexes"}


class CommandCounter(monitoring.CommandListener):
    """Notes the commands on the sessions collection while a count is on."""

    def __init__(self) -> None:
        self.traffic: Traffic | None = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.traffic is None or event.command.get(event.command_name) != "sessions":
            return
        if event.command_name in READS:
            self.traffic.reads.append(event.command_name)
        elif event.command_name in WRITES:
            self.traffic.writes.append(describe_write(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def describe_write(command: Mapping[str, Any]) -> str:
    """`update $set expiration` for an update that sets the expiry alone, say."""
    if "updates" in command:
        changes = [update["u"] for update in command["updates"]]
        fields = {
            f"{operator} {name}"
            for change in changes
            for operator in change
            if operator.startswith("$")
            for name in change[operator]
        }
        return " ".join(["update", *sorted(fields)]) if fields else "update (replacement)"
    return next(iter(command))


# pymongo tells listeners of the clients created after they register: register at import.
counter = CommandCounter()
monitoring.register(counter)


@contextmanager
def store_traffic(app: Flask) -> Iterator[Traffic]:
    """The commands `app` sends to MongoDB's sessions collection meanwhile."""
    counter.traffic = traffic = Traffic()
    try:
        yield traffic
    finally:
        counter.traffic = None


def is_expiry_update(write: str) -> bool:
    return write == "update $set expiration"
