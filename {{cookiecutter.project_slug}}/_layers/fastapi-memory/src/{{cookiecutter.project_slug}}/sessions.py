"""Sessions kept in this process's memory: bounded, expiring, lost on restart.

Only one process can see them: run a single worker, or choose Redis or MongoDB.
"""

import logging
import os
import sys
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

from starsessions import SessionStore

from .config import Settings

logger = logging.getLogger(__name__)


class MemorySessionStore(SessionStore):
    """At most `max_entries` sessions, each dropped `ttl` seconds after its last write.

    When full, the session written longest ago goes first.
    """

    kind = "memory"

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._records: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._records))

    async def read(self, session_id: str, lifetime: int) -> bytes:
        expires_at, data = self._records.get(session_id, (0.0, b""))
        if expires_at <= self.clock():
            self._records.pop(session_id, None)
            return b""
        return data

    async def write(self, session_id: str, data: bytes, lifetime: int, ttl: int) -> str:
        self._records[session_id] = (self.clock() + max(ttl, 1), data)
        self._records.move_to_end(session_id)
        while len(self._records) > self.max_entries:
            self._records.popitem(last=False)
        return session_id

    async def remove(self, session_id: str) -> None:
        self._records.pop(session_id, None)

    async def ping(self) -> None:
        """Memory is always there."""

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
            "out whenever another worker answers. Run one worker, or use Redis or MongoDB.",
            workers,
        )
