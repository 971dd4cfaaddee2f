"""Django's cache session engine on this process's LocMemCache, with sliding expiry.

LocMemCache knows when each entry expires; reading that is how a request learns, without a
second look-up, whether its session is due to have its expiry pushed back (by `touch`, which
leaves the entry itself alone).
"""

from datetime import UTC, datetime
from typing import Any

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from .session_engine import SlidingSession


class SessionStore(CacheSessionStore, SlidingSession):
    def load(self) -> dict[str, Any]:
        data = super().load()
        self._note_expiry()
        return data

    async def aload(self) -> dict[str, Any]:
        data = await super().aload()
        self._note_expiry()
        return data

    def save(self, must_create: bool = False) -> None:
        super().save(must_create)
        self._saved(self.get_expiry_date())

    def _note_expiry(self) -> None:
        if self.session_key is None:
            self.stored_until = None
            return
        key = self._cache.make_key(self.cache_key)  # validated by the load itself
        expires_at = self._cache._expire_info.get(key)  # type: ignore[attr-defined]
        self.stored_until = None if expires_at is None else datetime.fromtimestamp(expires_at, UTC)

    def extend_records(self, session_keys: list[str], until: datetime) -> None:
        timeout = until.timestamp() - datetime.now(UTC).timestamp()
        for session_key in session_keys:
            self._cache.touch(self.cache_key_prefix + session_key, timeout)
