"""The memory session store, as the tests see it."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from {{ cookiecutter.project_slug }}.session_store import Entry, MemoryStore, sessions_memory

from .traffic import Traffic


@pytest.fixture(scope="session", autouse=True)
def session_store() -> Iterator[None]:
    """The memory store needs no server; it starts empty with each test process."""
    yield


def stored_session_count() -> int:
    return len(sessions_memory().entries)


@contextmanager
def store_traffic() -> Iterator[Traffic]:
    """Count the calls to the memory store meanwhile."""
    traffic = Traffic()
    kinds = {"get": "reads", "put": "writes", "delete": "writes", "touch": "touches"}
    originals = {name: getattr(MemoryStore, name) for name in kinds}

    def counted(name: str) -> Any:
        def call(store: MemoryStore, *args: Any, **kwargs: Any) -> Any:
            setattr(traffic, kinds[name], getattr(traffic, kinds[name]) + 1)
            return originals[name](store, *args, **kwargs)

        return call

    for name in kinds:
        setattr(MemoryStore, name, counted(name))
    try:
        yield traffic
    finally:
        for name, original in originals.items():
            setattr(MemoryStore, name, original)


def app_env() -> dict[str, str]:
    """The environment that points an app process at this run's sessions: none for memory."""
    return {}


def store_unreadable_session(session_key: str) -> None:
    """Store bytes that are no session under `session_key`, for an hour."""
    until = datetime.now(UTC) + timedelta(hours=1)
    assert sessions_memory().put(session_key, Entry(b"\x00garbage", until), create=True)
