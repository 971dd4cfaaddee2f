"""Which sessions a back-channel logout from Logto ends, and ending them.

At sign-in a session is indexed in the session store under its user (`sub:<sub>`) and,
when Logto names one, its Logto session (`sid:<sid>`). The index outlives the session: it
is written for twice SESSION_LIFETIME and written again whenever fewer than SESSION_LIFETIME
seconds of it are left, while the session expires SESSION_LIFETIME after its last use.
The user's index also lists their sessions on the "your devices" page, which ends them
as a back-channel logout does (`end_session`).
"""

import time
from collections.abc import MutableMapping
from typing import Any

from .backchannel_logout import LEEWAY, LogoutToken
from .claims import Claims
from .session_store import AppSessionStore

INDEX_KEY = "logout_index"  # in the session: {"keys": [...], "until": <Unix time>}


def user_key(sub: str) -> str:
    """The index key of every session of the user `sub`."""
    return f"sub:{sub}"


def index_keys(claims: Claims) -> list[str]:
    keys = [user_key(claims["sub"])]
    if sid := claims.get("sid"):
        keys.append(f"sid:{sid}")
    return keys


async def index_session(
    store: AppSessionStore,
    session: MutableMapping[str, Any],
    session_id: str,
    claims: Claims,
    lifetime: int,
) -> None:
    """Index a session that has just signed in, under its new id."""
    keys = index_keys(claims)
    await store.link(session_id, keys, ttl=2 * lifetime)
    session[INDEX_KEY] = {"keys": keys, "until": time.time() + 2 * lifetime}


async def keep_indexed(
    store: AppSessionStore, session: MutableMapping[str, Any], session_id: str, lifetime: int
) -> None:
    """Renew the session's index before it could expire ahead of the session."""
    index = session.get(INDEX_KEY)
    if index is not None and index["until"] - time.time() < lifetime:
        await store.link(session_id, index["keys"], ttl=2 * lifetime)
        session[INDEX_KEY] = {**index, "until": time.time() + 2 * lifetime}


async def unindex_session(
    store: AppSessionStore, session: MutableMapping[str, Any], session_id: str
) -> None:
    if (index := session.get(INDEX_KEY)) is not None:
        await store.unlink(session_id, index["keys"])


async def end_sessions(store: AppSessionStore, token: LogoutToken) -> int:
    """Delete the sessions the logout token names: its `sid`'s, else all of its `sub`'s.

    A token is acted on once: its id is remembered until it expires, so that a replay,
    say after the user signed in again, ends nothing.
    """
    if not await store.remember(f"jti:{token.jti}", until=token.exp + LEEWAY):
        return 0
    key = f"sid:{token.sid}" if token.sid else f"sub:{token.sub}"
    session_ids = await store.linked(key)
    for session_id in session_ids:
        await end_session(store, session_id, [key])
    return len(session_ids)


async def end_session(store: AppSessionStore, session_id: str, keys: list[str]) -> None:
    """Delete a session of another request, and take it out of the index under `keys`."""
    await store.delete(session_id)
    await store.unlink(session_id, keys)
