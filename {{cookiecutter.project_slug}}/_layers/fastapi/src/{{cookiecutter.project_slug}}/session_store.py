"""What the app asks of a session store, whichever backend keeps the sessions.

A store keeps each session's serialized content under its id, for `ttl` seconds from the
last save or touch. It also keeps the index that back-channel logout needs, from an index
key (`sub:<user>`, `sid:<Logto session>`) to the ids of the sessions it names, and it
remembers keys used once (logout token ids), so that a replayed logout token does nothing.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredSession:
    data: bytes
    expires_in: float  # seconds left before the store forgets the session


class AppSessionStore(ABC):
    kind: str  # names the store on the 503 page and at /healthz, never its URL

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
    async def save(self, session_id: str, data: bytes, ttl: int) -> None:
        """Store the session for `ttl` seconds."""

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
    async def unlink(self, session_id: str, keys: Iterable[str]) -> None:
        """Take the session out of the index under each of `keys`."""

    @abstractmethod
    async def first_use(self, key: str, ttl: int) -> bool:
        """True the first time `key` is used within `ttl` seconds, False after."""
