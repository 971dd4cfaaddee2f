"""The memory session store, as the tests see it."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from .traffic import Traffic


@pytest.fixture(scope="session", autouse=True)
def session_store() -> Iterator[None]:
    """The memory store needs no server; it starts empty with each test process."""
    yield


def stored_session_count() -> int:
    # LocMemCache keeps its entries in this dict, expired ones included until culled.
    return len(caches["sessions"]._cache)


@contextmanager
def store_traffic() -> Iterator[Traffic]:
    """Count the calls to the memory store (every thread's LocMemCache) meanwhile."""
    traffic = Traffic()
    kinds = {"get": "reads", "has_key": "reads", "set": "writes", "add": "writes"}
    kinds |= {"delete": "writes", "touch": "extensions"}
    originals = {name: getattr(LocMemCache, name) for name in kinds}

    def counted(name: str) -> Any:
        def call(cache: LocMemCache, *args: Any, **kwargs: Any) -> Any:
            setattr(traffic, kinds[name], getattr(traffic, kinds[name]) + 1)
            return originals[name](cache, *args, **kwargs)

        return call

    for name in kinds:
        setattr(LocMemCache, name, counted(name))
    try:
        yield traffic
    finally:
        for name, original in originals.items():
            setattr(LocMemCache, name, original)


def app_env() -> dict[str, str]:
    """The environment that points an app process at this run's sessions: none for memory."""
    return {}
