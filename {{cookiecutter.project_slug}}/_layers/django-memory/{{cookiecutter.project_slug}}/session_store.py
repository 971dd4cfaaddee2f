"""A Django session engine in this process's memory: a bounded dict, oldest out first.

Sessions live as long as the process and are not shared between processes: serve with one
worker (config/sessions.py warns otherwise). They are kept pickled, as a store outside the
process keeps them serialised, so that a request never shares objects with another.

Why not Django's cache engine on LocMemCache: every read validates and prefixes the key and
looks the cache up in a thread-local registry; it tells when an entry expires only from its
internals; and when full it drops a third of its entries at once.
"""

import functools
import pickle
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, UpdateError

from .session_engine import SlidingSession


class Entry(NamedTuple):
    data: bytes
    until: datetime


class MemoryStore:
    """Session records by key, least recently written (or extended) first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and entry.until <= datetime.now(UTC):
                del self.entries[key]
                return None
        return entry

    def put(self, key: str, entry: Entry, *, create: bool) -> bool:
        """Store `entry` under a new key (`create`) or an existing one; False if it is not."""
        with self.lock:
            if (key in self.entries) == create:
                return False
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)
        return True

    def extend(self, keys: list[str], until: datetime) -> None:
        with self.lock:
            for key in keys:
                if (entry := self.entries.get(key)) is not None:
                    self.entries[key] = entry._replace(until=until)
                    self.entries.move_to_end(key)

    def delete(self, key: str) -> None:
        with self.lock:
            self.entries.pop(key, None)

    def delete_expired(self) -> None:
        now = datetime.now(UTC)
        with self.lock:
            for key in [key for key, entry in self.entries.items() if entry.until <= now]:
                del self.entries[key]


@functools.cache
def memory_store(max_entries: int) -> MemoryStore:
    return MemoryStore(max_entries)


def sessions_memory() -> MemoryStore:
    return memory_store(settings.SESSION_STORE["MAX_ENTRIES"])


class SessionStore(SlidingSession):
    def load(self) -> dict[str, Any]:
        entry = None if self.session_key is None else sessions_memory().get(self.session_key)
        if entry is None:
            # Unknown or expired: never adopt the id the client sent.
            self._session_key = None
            self.stored_until = None
            return {}
        self.stored_until = entry.until
        return pickle.loads(entry.data)  # type: ignore[no-any-return]

    def exists(self, session_key: str | None) -> bool:
        return bool(session_key) and sessions_memory().get(session_key) is not None

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = pickle.dumps(self._get_session(no_load=must_create), pickle.HIGHEST_PROTOCOL)
        until = self.get_expiry_date()
        if not sessions_memory().put(self.session_key, Entry(data, until), create=must_create):
            # Taken (create), or deleted meanwhile by a sign-out elsewhere (update).
            raise CreateError if must_create else UpdateError
        self._saved(until)
        return None

    def delete(self, session_key: str | None = None) -> None:
        if (session_key := session_key or self.session_key) is not None:
            sessions_memory().delete(session_key)

    def extend_records(self, session_keys: list[str], until: datetime) -> None:
        sessions_memory().extend(session_keys, until)

    @classmethod
    def clear_expired(cls) -> None:
        sessions_memory().delete_expired()
