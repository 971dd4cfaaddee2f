"""A Django session engine in this process's memory: a bounded dict, oldest out first.

Unfinished sign-ins (sessions that /sign-in wrote and no callback has finished) have a bound
of their own, a tenth of SESSION_MEMORY_MAX_ENTRIES beside it: anyone can start as many as
they like, so a flood of them only pushes out other unfinished sign-ins, never a signed-in
session.

Sessions live as long as the process and are not shared between processes: serve with one
worker (config/sessions.py warns otherwise). They are kept pickled, as a store outside the
process keeps them serialised, so that a request never shares objects with another.

Why not Django's cache engine on LocMemCache: when full, LocMemCache drops a third of its
entries, the least recently used whatever they are, so a flood of /sign-in would push
signed-in people out; its entries cannot be told apart, so unfinished sign-ins cannot have
a bound of their own.
"""

import functools
import logging
import pickle
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, UpdateError

from .session_engine import SlidingSession
from .session_index import CLAIMS_KEY
from .session_storage import KEY_PREFIX

logger = logging.getLogger(__name__)

# What the SDK keeps in the session from /sign-in until its callback.
SIGN_IN_STATE_KEY = f"{KEY_PREFIX}signInSession"


class Entry(NamedTuple):
    data: bytes
    until: datetime


class MemoryStore:
    """Session records by key, least recently written (or touched) first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.max_unfinished = max(1, max_entries // 10)
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        # The keys of the entries that are unfinished sign-ins, least recently written first.
        self.unfinished: OrderedDict[str, None] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and entry.until <= datetime.now(UTC):
                self._remove(key)
                return None
        return entry

    def put(self, key: str, entry: Entry, *, create: bool, unfinished: bool = False) -> bool:
        """Store `entry` under a new key (`create`) or an existing one; False if it is not.

        Unfinished sign-ins and the rest are bounded apart, each oldest out first: a new
        sign-in never pushes out a signed-in session, nor a full store a new sign-in.
        """
        with self.lock:
            if (key in self.entries) == create:
                return False
            self.entries[key] = entry
            self.entries.move_to_end(key)
            if unfinished:
                self.unfinished[key] = None
                self.unfinished.move_to_end(key)
            else:
                self.unfinished.pop(key, None)
            while len(self.unfinished) > self.max_unfinished:
                self._remove(next(iter(self.unfinished)))
            while len(self.entries) - len(self.unfinished) > self.max_entries:
                self._remove(next(key for key in self.entries if key not in self.unfinished))
        return True

    def _remove(self, key: str) -> None:
        del self.entries[key]
        self.unfinished.pop(key, None)

    def touch(self, keys: list[str], until: datetime) -> None:
        with self.lock:
            for key in keys:
                if (entry := self.entries.get(key)) is not None:
                    self.entries[key] = entry._replace(until=until)
                    self.entries.move_to_end(key)

    def delete(self, key: str) -> None:
        with self.lock:
            if key in self.entries:
                self._remove(key)

    def delete_expired(self) -> None:
        now = datetime.now(UTC)
        with self.lock:
            for key in [key for key, entry in self.entries.items() if entry.until <= now]:
                self._remove(key)


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
        try:
            return pickle.loads(entry.data)  # type: ignore[no-any-return]
        except pickle.UnpicklingError:
            logger.warning("A stored session could not be decoded: it reads as signed out")
            self._session_key = None
            self.stored_until = None
            return {}

    def exists(self, session_key: str | None) -> bool:
        return bool(session_key) and sessions_memory().get(session_key) is not None

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        if self.touch_pending:
            return self.touch()
        session = self._get_session(no_load=must_create)
        data = pickle.dumps(session, pickle.HIGHEST_PROTOCOL)
        until = self.get_expiry_date()
        unfinished = SIGN_IN_STATE_KEY in session and CLAIMS_KEY not in session
        entry = Entry(data, until)
        if not sessions_memory().put(
            self.session_key, entry, create=must_create, unfinished=unfinished
        ):
            # Taken (create), or deleted meanwhile by a sign-out elsewhere (update).
            raise CreateError if must_create else UpdateError
        self._saved(until)
        return None

    def delete(self, session_key: str | None = None) -> None:
        if (session_key := session_key or self.session_key) is not None:
            sessions_memory().delete(session_key)

    def touch_records(self, session_keys: list[str], until: datetime) -> None:
        sessions_memory().touch(session_keys, until)

    @classmethod
    def clear_expired(cls) -> None:
        sessions_memory().delete_expired()
