"""The memory backend's store, as the tests see it: inside the app's own process."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from .traffic import Traffic


@contextmanager
def running_store() -> Iterator[dict[str, object]]:
    """Nothing to start: each app keeps its sessions in its own memory."""
    yield {}


def stored_session_ids(app: Flask) -> set[str]:
    """The session ids the app's store holds (expired or not), without the key prefix."""
    interface = app.session_interface
    prefix = interface.key_prefix  # type: ignore[attr-defined]
    keys = [*interface.signed_in, *interface.signing_in]  # type: ignore[attr-defined]
    # Session ids have no colon; the store's other keys (logout token ids) have one.
    ids = {key.removeprefix(prefix) for key in keys if key.startswith(prefix)}
    return {sid for sid in ids if ":" not in sid}


def entry_of(app: Flask, sid: str) -> Any:
    interface = app.session_interface
    store_id = interface.key_prefix + sid  # type: ignore[attr-defined]
    return interface.signed_in.get(store_id) or interface.signing_in[store_id]  # type: ignore[attr-defined]


def stored_expiry(app: Flask, sid: str) -> float:
    """When the store lets the session `sid` expire (Unix time)."""
    return entry_of(app, sid).expires_at


def store_raw(app: Flask, sid: str, data: bytes) -> None:
    """Make the stored session `sid` hold `data`, as it is."""
    entry_of(app, sid).data = data


READS = {"load", "signed_in_sessions", "subject_sessions"}
WRITES = {"save", "touch", "delete", "remember"}


@contextmanager
def store_traffic(app: Flask) -> Iterator[Traffic]:
    """The store operations `app` makes meanwhile, counted by a wrapper that calls through."""
    interface = app.session_interface
    traffic = Traffic()

    def counted(name: str, operation: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            (traffic.reads if name in READS else traffic.writes).append(name)
            return operation(*args)

        return call

    for name in READS | WRITES:
        setattr(interface, name, counted(name, getattr(interface, name)))
    try:
        yield traffic
    finally:
        for name in READS | WRITES:
            delattr(interface, name)


def is_expiry_update(write: str) -> bool:
    return write == "touch"
