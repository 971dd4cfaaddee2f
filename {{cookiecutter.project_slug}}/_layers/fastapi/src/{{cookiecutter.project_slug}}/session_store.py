"""What the app asks of a session store, whichever backend keeps the sessions.

A store keeps each session's serialized content under its id, for `ttl` seconds from the
last save or touch. It also keeps the index that back-channel logout needs, from an index
key (`sub:<user>`, `sid:<Logto session>`) to the ids of the sessions it names, and it
remembers keys used once (logout token ids), so that a replayed logout token does nothing.
Those records live where no session id can name them. The same index lists a user's sessions
for the "your devices" page (`linked_sessions`).

A store that does not answer raises `unavailable()`: the first such error since the store last
answered is logged with its traceback, the ones after it in one line each.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredSession:
    data: bytes
    expires_in: float  # seconds left before the store forgets the session


class SessionStoreUnavailableError(Exception):
    """The session store did not answer; `kind` names it without its URL or credentials."""

    def __init__(self, kind: str, first_failure: bool = True) -> None:
        super().__init__(f"The {kind} session store is unavailable.")
        self.kind = kind
        self.first_failure = first_failure  # since the store last answered


class UnreadableSessionError(Exception):
    """A stored record that is not a session of this app (a store may raise it from `load`)."""


class AppSessionStore(ABC):
    kind: str  # names the store on the 503 page and at /healthz, never its URL
    failing = False  # the last call failed, and no call has succeeded since

    def answered(self) -> None:
        self.failing = False

    def unavailable(self) -> SessionStoreUnavailableError:
        """The error to raise for a call the store did not answer."""
        error = SessionStoreUnavailableError(self.kind, first_failure=not self.failing)
        self.failing = True
        return error

    @abstractmethod
    def connected(self) -> AbstractAsyncContextManager[None]:
        """Open the store's connections for the app's lifespan."""

    @abstractmethod
    async def ping(self) -> None:
        """Return when the store answers; raise SessionStoreUnavailableError when it does not."""

    @abstractmethod
    async def load(self, session_id: str) -> StoredSession | None:
        """The session, or None when the store has none (or only an expired one) by that id."""

    @abstractmethod
    async def save(self, session_id: str, data: bytes, ttl: int, *, signed_in: bool) -> None:
        """Store the session for `ttl` seconds; `signed_in` is False for a sign-in under way."""

    @abstractmethod
    async def touch(self, session_id: str, ttl: int) -> None:
        """Keep the session `ttl` seconds more, without rewriting it."""

    @abstractmethod
    async def delete(self, session_id: str) -> None: ...

    @abstractmethod
    async def link(self, session_id: str, keys: Iterable[str], ttl: int) -> None:
        """Index the session under each of `keys` for `ttl` seconds."""

    @abstractmethod
    async def linked(self, key: str) -> set[str]:
        """The ids of the sessions indexed under `key`."""

    @abstractmethod
    async def linked_sessions(self, key: str) -> dict[str, StoredSession]:
        """The sessions indexed under `key`, by id; an index entry whose session is gone (or
        has expired) is left out."""

    @abstractmethod
    async def unlink(self, session_id: str, keys: Iterable[str]) -> None:
        """Take the session out of the index under each of `keys`."""

    @abstractmethod
    async def remember(self, key: str, until: float) -> bool:
        """Keep `key` until the Unix time `until`: True, or False when it was already kept."""
