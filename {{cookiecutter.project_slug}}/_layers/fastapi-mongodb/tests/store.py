"""The MongoDB backend's side of the tests: MONGODB_URL, or a server of their own.

Without MONGODB_URL, a MongoDB-protocol server (secantus, in memory) is started for the run.
Either way the run's sessions live under a key prefix of their own, removed at the end.
"""

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from {{ cookiecutter.project_slug }}.sessions import COLLECTION, DEFAULT_DATABASE

from .helpers import closed_port

STARTUP_SECONDS = 30
TEST_DATABASE = "{{ cookiecutter.project_slug }}_test"


def answers(url: str) -> bool:
    try:
        with MongoClient(url, serverSelectionTimeoutMS=500) as client:
            client.admin.command("ping")
    except PyMongoError:
        return False
    return True


class SecantusProcess:
    """A MongoDB-protocol server of the tests' own, which a test may stop and start again."""

    def __init__(self, port: int, storage_path: str = ":memory:") -> None:
        self.url = f"mongodb://127.0.0.1:{port}/{TEST_DATABASE}"
        self.command = [sys.executable, "-m", "secantus", "--host", "127.0.0.1"]
        self.command += ["--port", str(port), "--storage-path", storage_path]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_SECONDS
        while not answers(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"secantus did not start: {self.command}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def running_store() -> Iterator[dict[str, Any]]:
    prefix = f"test-{uuid.uuid4().hex}:session:"
    if url := os.environ.get("MONGODB_URL"):
        yield {"mongodb_url": url, "session_key_prefix": prefix}
        with MongoClient(url) as client:
            sessions = client.get_default_database(DEFAULT_DATABASE)[COLLECTION]
            sessions.delete_many({"_id": {"$regex": f"^{re.escape(prefix)}"}})
    else:
        server = SecantusProcess(closed_port())
        server.start()
        try:
            yield {"mongodb_url": server.url, "session_key_prefix": prefix}
        finally:
            server.stop()


def stored_documents(app: FastAPI) -> dict[str, dict[str, Any]]:
    """The run's session documents by session id."""
    settings = app.state.settings
    prefix = settings.session_key_prefix
    with MongoClient(settings.mongodb_url, tz_aware=True) as client:
        sessions = client.get_default_database(DEFAULT_DATABASE)[COLLECTION]
        documents = sessions.find({"_id": {"$regex": f"^{re.escape(prefix)}"}})
        return {document["_id"].removeprefix(prefix): document for document in documents}


def stored_session_ids(app: FastAPI) -> set[str]:
    return set(stored_documents(app))
