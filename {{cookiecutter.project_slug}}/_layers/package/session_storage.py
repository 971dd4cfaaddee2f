"""Logto's `Storage` on the request's server-side session.

The SDK reads and writes plain strings; this adapter maps them onto session keys under
a `logto:` prefix so they never collide with the app's own keys. The session middleware
persists the session at the end of the request, so the adapter never talks to the store.
"""

from collections.abc import MutableMapping
from typing import Any

from logto import PersistKey, Storage

KEY_PREFIX = "logto:"


class SessionStorage(Storage):
    def __init__(self, session: MutableMapping[str, Any]) -> None:
        self._session = session

    def get(self, key: PersistKey) -> str | None:
        return self._session.get(KEY_PREFIX + key)

    def set(self, key: PersistKey, value: str | None) -> None:
        if value is None:
            self.delete(key)
        else:
            self._session[KEY_PREFIX + key] = value

    def delete(self, key: PersistKey) -> None:
        # Only touch the session when the key is there, so that a no-op delete
        # does not mark the session as modified (and cause a store write).
        if KEY_PREFIX + key in self._session:
            del self._session[KEY_PREFIX + key]
