"""The memory backend's side of the tests: nothing to start, records read from the app."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI


@contextmanager
def running_store() -> Iterator[dict[str, Any]]:
    yield {}


def stored_session_ids(app: FastAPI) -> set[str]:
    return set(app.state.session_store)
