"""What this app asks of a session engine beyond Django's SessionBase: sliding expiry at
little cost, and a way to tell whether the store is up.

A request whose session did not change reads the store once and writes nothing. The
session's expiry still slides: once REFRESH_FRACTION of its lifetime has passed since it
was last pushed back, the middleware has the session touched rather than saved: `touch()`
moves the expiry of the record (and of the records that index it) without rewriting it.
Each engine (session_store.py) says when a loaded record expires (`stored_until`),
implements `touch_records()` and calls `touch()` from save() when `touch_pending`.
The engines that are not built on one of Django's (Redis, MongoDB) keep sessions as plain
JSON: `JsonSession`.
"""

import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, SessionBase
from django.utils import timezone

from .session_index import CLAIMS_KEY, index_ids

logger = logging.getLogger(__name__)

# Push a session's expiry back at most once per this share of its lifetime.
REFRESH_FRACTION = 0.1
# The session ids that Django's _get_new_session_key() draws, and no other string.
# The back-channel logout index keeps its records under longer ids (session_index.py).
SESSION_ID = re.compile(r"[a-z0-9]{32}")
# A session with an expiry of its own (set_expiry(): an unfinished sign-in) does not slide.
EXPIRY_KEY = "_session_expiry"


class SlidingSession(SessionBase):
    # When the store lets the loaded record expire; None until one is loaded.
    stored_until: datetime | None = None
    # Set by the middleware on an unchanged session: save() only pushes its expiry back.
    touch_pending = False

    def touch_records(self, session_keys: list[str], until: datetime) -> None:
        """Move the expiry of the records stored under `session_keys` that still exist to
        `until`, leaving their data alone."""
        raise NotImplementedError

    def ping(self) -> None:
        """Reach the store: SessionStoreUnavailable (errors.py) when it does not answer."""
        self.exists("ping")

    def create(self) -> None:
        # As Django's engines do: save(must_create=True) raises CreateError for a taken key.
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue  # The new key was taken meanwhile; draw another.
            self.modified = True
            return

    def _saved(self, until: datetime) -> None:
        """What an engine's save() does once the record is written: the data in the store
        are the session's now, so the middleware need not save it again."""
        self.stored_until = until
        self.modified = False

    def touch_due(self) -> bool:
        """Whether this session's expiry was last pushed back REFRESH_FRACTION of its
        lifetime ago or more. A session with an expiry of its own (set_expiry(): an unfinished
        sign-in) does not slide."""
        if self.stored_until is None or self.session_key is None or EXPIRY_KEY in self:
            return False
        lifetime = timedelta(seconds=settings.SESSION_COOKIE_AGE)
        return self.stored_until - timezone.now() <= lifetime * (1 - REFRESH_FRACTION)

    def touch(self) -> None:
        """Push back this session's expiry, and that of its index records, by a lifetime."""
        assert self.session_key is not None
        until = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
        claims = self.get(CLAIMS_KEY)
        self.touch_records([self.session_key, *(index_ids(claims) if claims else ())], until)
        self._saved(until)
        self.touch_pending = False


class JsonSession(SlidingSession):
    """A session kept as plain JSON, not in Django's signed encoding: like Django's cache
    engine, the engines on Redis and MongoDB trust their store, and save an HMAC check and
    a decompression on every request."""

    def encode(self, session_dict: dict[str, Any]) -> str:
        return json.dumps(session_dict, separators=(",", ":"))

    def decode(self, session_data: str | bytes) -> dict[str, Any]:
        try:
            session = json.loads(session_data)
        except (TypeError, ValueError):
            session = None
        if not isinstance(session, dict):
            # Written by another version of the app, or by something else: signed out.
            logger.warning("A stored session could not be decoded: it reads as signed out")
            return {}
        return session
