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
    keys = list(interface.entries)  # type: ignore[attr-defined]
    # Session ids have no colon; the store's other keys (logout token ids) have one.
    ids = {key.removeprefix(prefix) for key in keys if key.startswith(prefix)}
    return {sid for sid in ids if ":" not in sid}
