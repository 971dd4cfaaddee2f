"""Server-side sessions in this process's memory: bounded dicts, oldest out first.

Sessions live as long as the process and are not shared between processes: run one
process (one worker), or pick another store when generating the project. Sessions are
kept serialised, as in any other store, so a request never shares objects with another.

Signed-in sessions and unfinished sign-ins are kept apart, each with its own bound
(SESSION_MEMORY_MAX_ENTRIES, and a tenth of it): anyone can start a sign-in, and a flood
of them must push out only other unfinished sign-ins, never a signed-in session.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask import Flask

from .backchannel_logout import LogoutToken
from .session_interface import Record, SignIn, StoreSessionInterface
from .settings import Settings

STORE_KIND = "memory"
# Errors that mean "the session store is down"; the in-process store cannot be.
STORE_ERRORS: tuple[type[Exception], ...] = ()


@dataclass
class Entry:
    data: bytes
    expires_at: float
    sign_in: SignIn | None


class MemorySessionInterface(StoreSessionInterface):
    store_errors = STORE_ERRORS

    def __init__(self, app: Flask, key_prefix: str, lifetime: int, max_entries: int) -> None:
        super().__init__(app, key_prefix=key_prefix, lifetime=lifetime)
        self.max_entries = max_entries
        self.max_sign_ins = max(1, max_entries // 10)
        # Least recently written first.
        self.signed_in: OrderedDict[str, Entry] = OrderedDict()
        self.signing_in: OrderedDict[str, Entry] = OrderedDict()
        self.remembered: dict[str, float] = {}
        self.lock = threading.Lock()

    def load(self, store_id: str) -> Record | None:
        with self.lock:
            entries = self.signed_in if store_id in self.signed_in else self.signing_in
            entry = entries.get(store_id)
            if entry is not None and entry.expires_at <= time.time():
                del entries[store_id]
                entry = None
        if entry is None:
            return None
        return Record(self.serializer.decode(entry.data), entry.expires_at)

    def save(
        self, store_id: str, data: dict[str, Any], expires_at: float, sign_in: SignIn | None
    ) -> None:
        entry = Entry(self.serializer.encode(data), expires_at, sign_in)
        entries, bound = (
            (self.signing_in, self.max_sign_ins)
            if sign_in is None
            else (self.signed_in, self.max_entries)
        )
        with self.lock:
            self.signed_in.pop(store_id, None)
            self.signing_in.pop(store_id, None)
            entries[store_id] = entry
            while len(entries) > bound:
                entries.popitem(last=False)

    def touch(self, store_id: str, expires_at: float, sign_in: SignIn | None) -> None:
        with self.lock:
            if (entry := self.signed_in.get(store_id)) is not None:
                entry.expires_at = expires_at
                self.signed_in.move_to_end(store_id)

    def delete(self, store_id: str, sign_in: SignIn | None) -> None:
        with self.lock:
            self.signed_in.pop(store_id, None)
            self.signing_in.pop(store_id, None)

    def signed_in_sessions(self, logout: LogoutToken) -> list[tuple[str, SignIn]]:
        # A scan: logout tokens are rare, and the store is bounded.
        now = time.time()
        with self.lock:
            return [
                (store_id, entry.sign_in)
                for store_id, entry in self.signed_in.items()
                if store_id.startswith(self.key_prefix)
                and entry.expires_at > now
                and entry.sign_in is not None
                and (logout.sid is None or entry.sign_in.provider_session == logout.sid)
                and (logout.sub is None or entry.sign_in.subject == logout.sub)
            ]

    def subject_sessions(self, subject: str) -> list[tuple[str, bytes, float]]:
        # A scan, as for a logout token: the store is bounded.
        now = time.time()
        with self.lock:
            return [
                (store_id, entry.data, entry.expires_at)
                for store_id, entry in self.signed_in.items()
                if store_id.startswith(self.key_prefix)
                and entry.expires_at > now
                and entry.sign_in is not None
                and entry.sign_in.subject == subject
            ]

    def remember(self, key: str, until: float) -> bool:
        now = time.time()
        with self.lock:
            self.remembered = {key: end for key, end in self.remembered.items() if end > now}
            if key in self.remembered:
                return False
            self.remembered[key] = until
            return True

    def ping(self) -> bool:
        return True


def init_sessions(app: Flask, settings: Settings) -> None:
    app.session_interface = MemorySessionInterface(
        app,
        key_prefix=settings.session_key_prefix,
        lifetime=settings.session_lifetime,
        max_entries=settings.session_memory_max_entries,
    )
