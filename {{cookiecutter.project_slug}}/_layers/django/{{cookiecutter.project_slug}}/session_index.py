"""Which sessions a back-channel logout token ends, and which tokens were seen already.

The index lives in the session store itself, as records of the session engine, so that it
has the same expiry and needs no store of its own:

- `sub` record: the session ids signed in as one Logto user;
- `sid` record: the session ids signed in through one Logto session (the ID token's `sid`);
- `jti` record: a logout token already acted on, kept until the token expires.

The `sub` record also lists a user's sessions on the "your devices" page, which ends them
the way a back-channel logout does (`end_session`).

A record's id is its kind and a keyed hash (SECRET_KEY) of what it indexes, 35 characters:
no session id has that form (session_engine.SESSION_ID), so no cookie can name a record
(the session middleware looks up ids of that form only), and no one could guess one. When
a session's expiry is pushed back, so is that of its index records (session_engine.py).
Writing the `sub` record reads it first: two sign-ins of one user at the same instant may
leave one session out of it.
"""

from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.utils.crypto import salted_hmac

from .backchannel_logout import LEEWAY, LogoutToken
from .session_storage import KEY_PREFIX

# The session key of the signed-in user's ID token claims, set at sign-in and refresh (under
# Logto's prefix: it goes with Logto's tokens).
CLAIMS_KEY = f"{KEY_PREFIX}idTokenClaims"
# What the "your devices" page shows of a session, kept at sign-in: when (Unix seconds) and
# from which browser (devices.device_summary).
SIGNED_IN_AT_KEY = "signed_in_at"
DEVICE_KEY = "device"
SESSIONS = "sessions"


def record(key: str) -> SessionBase:
    """The record stored under `key`, through the session engine (loaded when first read)."""
    return import_module(settings.SESSION_ENGINE).SessionStore(key)


def record_id(kind: str, value: str) -> str:
    """`kind` + 32 hex digits: within the 40 characters every engine takes as a session id."""
    return kind + salted_hmac(f"session-index.{kind}", value).hexdigest()[:32]


def index_ids(claims: dict[str, Any]) -> list[str]:
    """The ids of the index records that name a session signed in with `claims`."""
    ids = [record_id("sub", claims["sub"])]
    if sid := claims.get("sid"):
        ids.append(record_id("sid", sid))
    return ids


def write(entry_id: str, data: dict[str, Any], *, stored: bool) -> None:
    """Store `data` as the index record `entry_id`, which the store has or not (`stored`)."""
    entry = record(entry_id)
    entry.clear()  # Replaced whole: no need to load it.
    entry.update(data)
    try:
        entry.save(must_create=not stored)
    except (CreateError, UpdateError):
        entry.save(must_create=stored)  # Made or deleted meanwhile by another request.


def add(session_key: str, claims: dict[str, Any]) -> None:
    """Index a session that has just been signed in with `claims`."""
    for entry_id in index_ids(claims):
        known = record(entry_id).get(SESSIONS)
        # Sessions that ended without a sign-out (expired, or evicted from a full store) leave
        # the index here: it lists live sessions only, rather than every sign-in ever made.
        live = [key for key in known or [] if record(key).exists(key)]
        write(entry_id, {SESSIONS: [*live, session_key]}, stored=known is not None)


def remove(session_key: str, claims: dict[str, Any]) -> None:
    """Take a session that is being signed out out of the index."""
    for entry_id in index_ids(claims):
        known = record(entry_id).get(SESSIONS) or []
        if remaining := [key for key in known if key != session_key]:
            write(entry_id, {SESSIONS: remaining}, stored=True)
        else:
            record(entry_id).delete(entry_id)


def remember(key: str, until: datetime) -> bool:
    """Keep the record `key` until `until`; False when it was kept already (a replay)."""
    seen = record(key)
    seen.clear()
    seen.set_expiry(until)
    try:
        seen.save(must_create=True)
    except CreateError:
        return False
    return True


def end_sessions(logout: LogoutToken) -> int:
    """End the sessions a valid logout token names: Logto's session `sid` when it names
    one, else every session of the user `sub`. A replayed token ends none."""
    until = datetime.fromtimestamp(logout.exp, UTC) + timedelta(seconds=LEEWAY)
    if not remember(record_id("jti", logout.jti), until):
        return 0  # Acted on already.
    if logout.sid:
        entries = [record_id("sid", logout.sid)]
    else:
        assert logout.sub is not None
        entries = [record_id("sub", logout.sub)]
    session_keys = [key for entry in entries for key in record(entry).get(SESSIONS, [])]
    return sum(end_session(session_key) for session_key in session_keys)


def end_session(session_key: str, session: SessionBase | None = None) -> bool:
    """End the session `session_key` (`session`: its record, if loaded already): out of the
    index, then out of the store. False when it was not signed in (or is gone already)."""
    if session is None:
        session = record(session_key)
    if (claims := session.get(CLAIMS_KEY)) is not None:
        remove(session_key, claims)
    session.delete(session_key)
    return claims is not None


def other_sessions(sub: str, this_key: str) -> list[SessionBase]:
    """The stored sessions signed in as the user `sub` other than `this_key`, loaded (each
    knows its `stored_until`). Index entries whose record is gone, or is no session of
    `sub`, are left out."""
    sessions = []
    for session_key in record(record_id("sub", sub)).get(SESSIONS, []):
        if session_key == this_key:
            continue
        session = record(session_key)
        if (claims := session.get(CLAIMS_KEY)) is not None and claims["sub"] == sub:
            sessions.append(session)
    return sessions


aend_sessions = sync_to_async(end_sessions)
aadd = sync_to_async(add)
aremove = sync_to_async(remove)
