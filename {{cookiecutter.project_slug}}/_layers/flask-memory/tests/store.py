"""The memory backend's store, as the tests see it: inside the app's own process."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask


@contextmanager
def running_store() -> Iterator[dict[str, object]]:
    """Nothing to start: each app keeps its sessions in its own memory."""
    yield {}


def stored_session_ids(app: Flask) -> set[str]:
    """The session ids the app's store holds (expired or not), without the key prefix."""
    interface = app.session_interface
    prefix = interface.key_prefix  # type: ignore[attr-defined]
    # SimpleCache has no way to list its keys; its dict is the store.
    keys = interface.cache._cache  # type: ignore[attr-defined]
    return {key.removeprefix(prefix) for key in list(keys) if key.startswith(prefix)}
