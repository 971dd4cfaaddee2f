"""The memory session store, as the tests see it."""

from collections.abc import Iterator

import pytest
from django.core.cache import caches


@pytest.fixture(scope="session", autouse=True)
def session_store() -> Iterator[None]:
    """The memory store needs no server; it starts empty with each test process."""
    yield


def stored_session_count() -> int:
    # LocMemCache keeps its entries in this dict, expired ones included until culled.
    return len(caches["sessions"]._cache)
