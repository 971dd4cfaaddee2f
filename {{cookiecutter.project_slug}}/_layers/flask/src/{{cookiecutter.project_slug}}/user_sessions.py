"""The signed-in user's sessions in this app, as the devices page lists and ends them.

The store finds them through the index that back-channel logout uses. A session is named
by its handle (`devices.session_handle`, a hash of its id), never by its id: the id is
what its cookie proves, and it never leaves the cookie.
"""

from dataclasses import dataclass

from flask import current_app, g, session

from .devices import device_summary, session_handle
from .session_interface import SIGN_IN_KEY, UserSession


@dataclass(frozen=True)
class Device:
    """A session as the devices page shows it."""

    handle: str
    summary: str
    signed_in_at: float | None  # None for a session signed in before the app noted it
    last_seen: float
    current: bool


def user_sessions() -> list[UserSession]:
    """The signed-in user's sessions: this one first, then the others, last seen first."""
    sessions = current_app.session_interface.user_sessions(g.user["sub"])  # type: ignore[attr-defined]
    return sorted(sessions, key=lambda other: (not is_current(other), -other.expires_at))


def is_current(user_session: UserSession) -> bool:
    return user_session.session_id == session.sid  # type: ignore[attr-defined]


def device(user_session: UserSession) -> Device:
    sign_in = user_session.data[SIGN_IN_KEY]
    return Device(
        handle=session_handle(user_session.session_id),
        summary=sign_in.get("device") or device_summary(None),
        signed_in_at=sign_in.get("signed_in_at"),
        # The session's expiry was last pushed back (or the session written) when it was
        # seen: a lifetime before its expiry, to a tenth of the lifetime.
        last_seen=user_session.expires_at - current_app.config["SESSION_LIFETIME"],
        current=is_current(user_session),
    )


def find_user_session(handle: str) -> UserSession | None:
    """The signed-in user's session named by `handle`; None for anyone else's, or none."""
    for user_session in user_sessions():
        if session_handle(user_session.session_id) == handle:
            return user_session
    return None


def end_user_session(user_session: UserSession) -> None:
    """End one of the user's other sessions: gone from the store and its index."""
    current_app.session_interface.end_session(user_session)  # type: ignore[attr-defined]
