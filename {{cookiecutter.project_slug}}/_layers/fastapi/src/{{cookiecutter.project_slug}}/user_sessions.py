"""A signed-in user's sessions in this app, as the "your devices" page lists them.

At sign-in a session keeps what the page shows of it: when it signed in and a short name of
the browser. The page finds the user's sessions through the back-channel logout index
(`sub:<sub>`); when each was last seen comes from its expiry, which the session middleware
pushes back to SESSION_LIFETIME from the last use (so, to the sliding granularity, with no
store write of its own). A session is named by `session_handle`, never by its id.
"""

import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from .claims import CLAIMS_KEY
from .devices import device_summary, session_handle, timestamp
from .logout_index import INDEX_KEY, user_key
from .session_middleware import deserialize
from .session_store import AppSessionStore, UnreadableSessionError

DEVICE_KEY = "device"  # in the session: {"summary": "Firefox on Linux", "signed_in_at": ...}


def remember_device(session: MutableMapping[str, Any], user_agent: str | None) -> None:
    """Keep, at sign-in, what the devices page shows of this session."""
    session[DEVICE_KEY] = {"summary": device_summary(user_agent), "signed_in_at": int(time.time())}


@dataclass(frozen=True)
class UserSession:
    id: str  # never on a page: the page names the session by its `handle`
    index_keys: list[str]
    summary: str
    signed_in_at: float | None
    last_seen_at: float
    current: bool

    @property
    def handle(self) -> str:
        return session_handle(self.id)

    @property
    def signed_in(self) -> str:
        return "at an unknown time" if self.signed_in_at is None else timestamp(self.signed_in_at)

    @property
    def last_seen(self) -> str:
        return timestamp(self.last_seen_at)


async def user_sessions(
    store: AppSessionStore, sub: str, current_id: str, lifetime: int
) -> list[UserSession]:
    """The sessions of the user `sub`: this one first, then by last seen, newest first."""
    now, sessions = time.time(), []
    for session_id, stored in (await store.linked_sessions(user_key(sub))).items():
        try:
            data = deserialize(stored.data)
        except UnreadableSessionError:
            continue
        if data.get(CLAIMS_KEY, {}).get("claims", {}).get("sub") != sub:
            continue  # only ever the user's own, whatever the index says
        device = data.get(DEVICE_KEY) or {}
        sessions.append(
            UserSession(
                id=session_id,
                index_keys=(data.get(INDEX_KEY) or {}).get("keys") or [user_key(sub)],
                summary=device.get("summary") or device_summary(None),
                signed_in_at=device.get("signed_in_at"),
                last_seen_at=now + stored.expires_in - lifetime,
                current=session_id == current_id,
            )
        )
    return sorted(sessions, key=lambda session: (not session.current, -session.last_seen_at))
