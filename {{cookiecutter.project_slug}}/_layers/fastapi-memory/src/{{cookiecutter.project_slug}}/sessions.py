"""Sessions kept in this process's memory: bounded, expiring, lost on restart.

Only one process can see them: run a single worker, or choose Redis, MongoDB or a SQL database.
"""

import logging
import os
import sys
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager

from .config import Settings
from .session_store import AppSessionStore, StoredSession

logger = logging.getLogger(__name__)


class MemorySessionStore(AppSessionStore):
    """At most `max_entries` sessions, each dropped `ttl` seconds after its last save or touch.

    When full, the session saved longest ago goes first. Sessions that are not signed in
    (sign-ins under way, which anyone can start) are bounded apart, to a tenth of that, so
    that a flood of them pushes out only each other, never a signed-in session.
    The back-channel logout index
    and the used keys are swept of what has expired or lost its session whenever they
    outgrow the sessions, so they stay bounded too.
    """

    kind = "memory"

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.max_signing_in = max(max_entries // 10, 1)
        self.clock = clock
        self._records: OrderedDict[str, tuple[float, bytes]] = OrderedDict()  # signed in
        self._signing_in: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._index: dict[str, dict[str, float]] = {}  # key -> {session id: expiry}
        self._used: dict[str, float] = {}  # key -> expiry

    def __len__(self) -> int:
        return len(self._records) + len(self._signing_in)

    def __iter__(self) -> Iterator[str]:
        return iter([*self._records, *self._signing_in])

    def _records_of(self, session_id: str) -> OrderedDict[str, tuple[float, bytes]]:
        return self._signing_in if session_id in self._signing_in else self._records

    async def load(self, session_id: str) -> StoredSession | None:
        records = self._records_of(session_id)
        expires_at, data = records.get(session_id, (0.0, b""))
        if expires_at <= self.clock():
            records.pop(session_id, None)
            return None
        return StoredSession(data, expires_in=expires_at - self.clock())

    async def save(self, session_id: str, data: bytes, ttl: int, *, signed_in: bool) -> None:
        self._records_of(session_id).pop(session_id, None)  # signed in, it moves over
        if signed_in:
            records, bound = self._records, self.max_entries
        else:
            records, bound = self._signing_in, self.max_signing_in
        records[session_id] = (self.clock() + ttl, data)
        while len(records) > bound:
            records.popitem(last=False)

    async def touch(self, session_id: str, ttl: int) -> None:
        records = self._records_of(session_id)
        if (record := records.get(session_id)) is not None:
            records[session_id] = (self.clock() + ttl, record[1])

    async def delete(self, session_id: str) -> None:
        self._records.pop(session_id, None)
        self._signing_in.pop(session_id, None)

    async def ping(self) -> None:
        """Memory is always there."""

    async def link(self, session_id: str, keys: Iterable[str], ttl: int) -> None:
        for key in keys:
            self._index.setdefault(key, {})[session_id] = self.clock() + ttl
        if len(self._index) > 2 * self.max_entries:
            self._sweep_index()

    async def linked(self, key: str) -> set[str]:
        now = self.clock()
        sessions = self._index.get(key, {})
        return {session_id for session_id, expiry in sessions.items() if expiry > now}

    async def linked_sessions(self, key: str) -> dict[str, StoredSession]:
        now, sessions = self.clock(), {}
        for session_id, index_expiry in self._index.get(key, {}).items():
            expires_at, data = self._records.get(session_id, (0.0, b""))
            if index_expiry > now and expires_at > now:
                sessions[session_id] = StoredSession(data, expires_in=expires_at - now)
        return sessions

    async def unlink(self, session_id: str, keys: Iterable[str]) -> None:
        for key in keys:
            sessions = self._index.get(key, {})
            sessions.pop(session_id, None)
            if not sessions:
                self._index.pop(key, None)

    async def remember(self, key: str, until: float) -> bool:
        now = self.clock()
        if self._used.get(key, now) > now:
            return False
        self._used[key] = now + until - time.time()  # `until` is Unix time, the clock is not
        if len(self._used) > self.max_entries:
            self._used = {key: expiry for key, expiry in self._used.items() if expiry > now}
        return True

    def _sweep_index(self) -> None:
        now = self.clock()
        for key, sessions in list(self._index.items()):
            alive = {
                session_id: expiry
                for session_id, expiry in sessions.items()
                if expiry > now and session_id in self._records
            }
            if alive:
                self._index[key] = alive
            else:
                del self._index[key]

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[None]:
        warn_if_several_workers()
        yield


def create_session_store(settings: Settings) -> MemorySessionStore:
    return MemorySessionStore(max_entries=settings.session_memory_max_entries)


def requested_workers(argv: list[str], environ: dict[str, str]) -> int:
    """The number of worker processes asked of uvicorn or gunicorn, where it can be seen."""
    for flag, value in zip(argv, [*argv[1:], ""], strict=True):
        if flag in ("--workers", "-w") and value.isdigit():
            return int(value)
        if flag.startswith("--workers=") and flag.removeprefix("--workers=").isdigit():
            return int(flag.removeprefix("--workers="))
    concurrency = environ.get("WEB_CONCURRENCY", "")  # read by both servers
    return int(concurrency) if concurrency.isdigit() else 1


def warn_if_several_workers() -> None:
    workers = requested_workers(sys.argv, dict(os.environ))
    if workers > 1:
        logger.warning(
            "%d workers share no memory: each keeps its own sessions, so a visitor is signed "
            "out whenever another worker answers. Run one worker, or keep the sessions in "
            "Redis, MongoDB or a SQL database.",
            workers,
        )
