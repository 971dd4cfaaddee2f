"""What every session store shares: Flask-Session's cookie and id handling, with store
traffic kept to what changed.

A request whose session did not change reads the store once and writes nothing. The
session's expiry still slides: once more than REFRESH_FRACTION of its lifetime has passed
since it was last pushed back, the store's expiry is moved by a TTL-only update, not a
rewrite of the session. Each store (`sessions.py`) implements the abstract methods.

A signed-in session is indexed by who it belongs to (`SignIn`: Logto's user id and
Logto's session id), in the same store and with the same expiry, so that a back-channel
logout token can end it and the devices page can list a user's sessions. A session that
is not signed in (an unfinished sign-in: the SDK's state between `/sign-in` and
`/callback`) expires SIGN_IN_TIMEOUT after it was written.

A session id is `secrets.token_urlsafe(SESSION_ID_BYTES)`, as Flask-Session makes it. A
cookie that is not such an id is no cookie: the store is not asked. The store's other keys
(the index, logout token ids) have a colon after the prefix, which no id has.

The stores are not Flask-Session's own interfaces: to slide a session's expiry those
rewrite it on every request (SESSION_REFRESH_EACH_REQUEST), or else never slide it, and
they keep no index for back-channel logout. Their base classes are used as they are.
"""

import re
import threading
import time
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec
from flask import Flask, Request
from flask import session as current_session
from flask_session.base import Serializer, ServerSideSession, ServerSideSessionInterface
from werkzeug.wrappers import Response

from .backchannel_logout import LogoutToken

# Push a session's expiry back at most once per this share of its lifetime.
REFRESH_FRACTION = 0.1
# Seconds an unfinished sign-in is kept: time enough to sign in at Logto.
SIGN_IN_TIMEOUT = 600
SESSION_ID_BYTES = 32
# What `secrets.token_urlsafe(SESSION_ID_BYTES)` makes: 43 characters, URL-safe base64.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")
# The session key of whom it was signed in as (set at sign-in), for the store's index.
SIGN_IN_KEY = "sign_in"


@dataclass(frozen=True)
class SignIn:
    """Whom a session is signed in as: Logto's user (`sub`) and Logto's session (`sid`)."""

    subject: str | None
    provider_session: str | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> "SignIn | None":
        sign_in = data.get(SIGN_IN_KEY)
        return None if sign_in is None else cls(sign_in["sub"], sign_in.get("sid"))


@dataclass(frozen=True)
class Record:
    """A session as its store holds it."""

    data: dict[str, Any]
    expires_at: float  # Unix time


@dataclass(frozen=True)
class UserSession:
    """One of a user's signed-in sessions, found through the back-channel logout index."""

    session_id: str  # the id in its cookie: a bearer secret, never shown
    data: dict[str, Any]
    expires_at: float  # Unix time

    @property
    def sign_in(self) -> SignIn | None:
        return SignIn.of(self.data)


class UnreadableSessionError(Exception):
    """A stored session that does not decode."""


class SessionSerializer(Serializer):
    """msgpack, as Flask-Session writes it, without its fallback to pickle: a record that
    does not decode is an error, never code to run."""

    def __init__(self) -> None:
        self.encoder = msgspec.msgpack.Encoder()
        self.decoder = msgspec.msgpack.Decoder(dict[str, Any])

    def encode(self, session: Mapping[str, Any]) -> bytes:  # type: ignore[override]
        return self.encoder.encode(session)

    def decode(self, serialized_data: bytes) -> dict[str, Any]:
        try:
            return self.decoder.decode(serialized_data)
        except msgspec.DecodeError as error:
            raise UnreadableSessionError(str(error)) from None


class StoredSession(ServerSideSession):
    """A server-side session and, once stored, when its store lets it expire."""

    sid: str | None  # None until the session is first stored
    expires_at: float | None = None
    stored_sign_in: "SignIn | None" = None  # as the store indexes it
    store_error: Exception | None = None  # the store failed this request
    # Every session's cookie expires with it: no `_permanent` key to keep in each of them.
    permanent = True


class StoreSessionInterface(ServerSideSessionInterface):
    session_class = StoredSession
    # Each store expires sessions itself (or cleans them up): no Flask-Session cleanup hook.
    ttl = True
    # The errors that mean "the store is down" (each store's STORE_ERRORS).
    store_errors: tuple[type[Exception], ...] = ()

    serializer: SessionSerializer  # type: ignore[assignment]

    def __init__(self, app: Flask, key_prefix: str, lifetime: int) -> None:
        super().__init__(app, key_prefix=key_prefix, sid_length=SESSION_ID_BYTES)
        self.serializer = SessionSerializer()
        self.lifetime = lifetime
        self.store_failing = False  # since the last error, the store has not answered
        self.store_failing_lock = threading.Lock()
        app.before_request(self.raise_store_error)

    # What each store implements

    @abstractmethod
    def load(self, store_id: str) -> Record | None:
        """The session stored under `store_id`, or None when there is none or it expired.
        Raises UnreadableSessionError (from `self.serializer`) when it does not decode."""

    @abstractmethod
    def save(
        self, store_id: str, data: dict[str, Any], expires_at: float, sign_in: SignIn | None
    ) -> None:
        """Create or replace the session stored under `store_id`, indexed by `sign_in`."""

    @abstractmethod
    def touch(self, store_id: str, expires_at: float, sign_in: SignIn | None) -> None:
        """Move the expiry of a session (and of its index), leaving its data alone."""

    @abstractmethod
    def delete(self, store_id: str, sign_in: SignIn | None) -> None:
        """Remove the session stored under `store_id` and its index entries, if any."""

    @abstractmethod
    def signed_in_sessions(self, logout: LogoutToken) -> list[tuple[str, SignIn]]:
        """The unexpired sessions a logout token names (store id, sign-in): those of Logto's
        session `sid` when it names one, else all of the user `sub`'s."""

    @abstractmethod
    def subject_sessions(self, subject: str) -> list[tuple[str, bytes, float]]:
        """The unexpired sessions the index lists for the user `subject`, as stored: store
        id, serialised data, expiry. Index entries whose session is gone are left out."""

    @abstractmethod
    def remember(self, key: str, until: float) -> bool:
        """Store `key` until `until`; False if it is already there."""

    @abstractmethod
    def ping(self) -> bool:
        """Whether the store answers."""

    # Flask's session interface

    def open_session(self, app: Flask, request: Request) -> StoredSession:  # type: ignore[override]
        sid = request.cookies.get(self.get_cookie_name(app))
        try:
            record = self.stored(sid) if sid is not None and SESSION_ID.fullmatch(sid) else None
        except self.store_errors as error:
            # Raised here, the error would miss the app's error handlers, and Flask would
            # fail again finishing its error page: `raise_store_error` raises it.
            session = self.session_class()
            session.store_error = error
            return session
        if record is not None:
            session = self.session_class(record.data, sid=sid)
            session.expires_at = record.expires_at
            session.stored_sign_in = SignIn.of(record.data)
            return session
        # No cookie, not an id of this app, or one the store does not know: never the
        # client's id, and none of its own until it is stored (most such sessions are
        # anonymous page views).
        return self.session_class()

    def stored(self, sid: str) -> Record | None:
        try:
            record = self.load(self._get_store_id(sid))
        except UnreadableSessionError as error:
            self.app.logger.warning("A stored session does not decode, ignored: %s", error)
            record = None
        self.store_answered()
        return record

    # The store's failures

    def store_failed(self) -> bool:
        """Note that the store failed; whether it is the first failure since it answered."""
        with self.store_failing_lock:
            first, self.store_failing = not self.store_failing, True
        return first

    def store_answered(self) -> None:
        if self.store_failing:
            self.store_failing = False

    def raise_store_error(self) -> None:
        """Before the view: the store's failure to open the session, for the error page."""
        if (error := current_session.store_error) is not None:  # type: ignore[attr-defined]
            raise error

    def save_session(  # type: ignore[override]
        self, app: Flask, session: StoredSession, response: Response
    ) -> None:
        if session.store_error is not None:
            return  # the store failed this request, whose error page stores nothing
        try:
            self.write_session(app, session, response)
        except self.store_errors as error:
            session.store_error = error
            raise

    def write_session(self, app: Flask, session: StoredSession, response: Response) -> None:
        if session.accessed:
            response.vary.add("Cookie")
        if not session:
            if session.modified:
                if session.expires_at is not None:
                    self.delete(self._get_store_id(session.sid), session.stored_sign_in)
                    session.expires_at = session.stored_sign_in = None
                response.delete_cookie(
                    self.get_cookie_name(app),
                    domain=self.get_cookie_domain(app),
                    path=self.get_cookie_path(app),
                )
                response.vary.add("Cookie")
            return
        now = time.time()
        if session.modified:
            if session.sid is None:
                session.sid = self._generate_sid(self.sid_length)
            store_id = self._get_store_id(session.sid)
            sign_in = SignIn.of(session)
            if session.stored_sign_in not in {None, sign_in}:
                self.delete(store_id, session.stored_sign_in)  # signed in as someone else now
            session.expires_at = now + self.lifetime_of(sign_in)
            self.save(store_id, dict(session), session.expires_at, sign_in)
            session.stored_sign_in = sign_in
        elif session.stored_sign_in is not None and self.due_for_extension(session, now):
            session.expires_at = now + self.lifetime
            self.touch(self._get_store_id(session.sid), session.expires_at, session.stored_sign_in)
        else:
            return  # unchanged, and its expiry was pushed back not long ago
        self.store_answered()
        self.set_cookie(app, session, response)

    def lifetime_of(self, sign_in: SignIn | None) -> float:
        """A signed-in session lives SESSION_LIFETIME after its last use; an unfinished
        sign-in SIGN_IN_TIMEOUT after it was written, so that a flood of them goes soon."""
        return self.lifetime if sign_in is not None else min(SIGN_IN_TIMEOUT, self.lifetime)

    def due_for_extension(self, session: StoredSession, now: float) -> bool:
        assert session.expires_at is not None
        extended_at = session.expires_at - self.lifetime
        return now - extended_at >= self.lifetime * REFRESH_FRACTION

    def set_cookie(self, app: Flask, session: StoredSession, response: Response) -> None:
        # The cookie expires with the stored session, so it slides along with it.
        response.set_cookie(
            self.get_cookie_name(app),
            session.sid,
            expires=session.expires_at,
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
        )
        response.vary.add("Cookie")

    def regenerate(self, session: StoredSession) -> None:  # type: ignore[override]
        """A new id for `session`; the record under the old one is deleted."""
        if session.expires_at is not None:
            self.delete(self._get_store_id(session.sid), session.stored_sign_in)
        session.sid = self._generate_sid(self.sid_length)
        session.expires_at = session.stored_sign_in = None
        session.modified = True

    def end_sessions(self, logout: LogoutToken) -> int:
        """Delete the sessions a valid logout token names; how many. A replay ends none."""
        if not self.remember(self._get_store_id(f"logout-token:{logout.jti}"), logout.exp):
            return 0
        sessions = self.signed_in_sessions(logout)
        for store_id, sign_in in sessions:
            self.delete(store_id, sign_in)
        return len(sessions)

    def user_sessions(self, subject: str) -> list[UserSession]:
        """The signed-in sessions of the user `subject` in this app."""
        sessions = []
        for store_id, value, expires_at in self.subject_sessions(subject):
            try:
                data = self.serializer.decode(value)
            except UnreadableSessionError:
                continue  # an anonymous session when loaded: nobody's
            sign_in = SignIn.of(data)
            if sign_in is None or sign_in.subject != subject:
                continue  # an index entry the session has outlived
            session_id = store_id.removeprefix(self.key_prefix)
            sessions.append(UserSession(session_id, data, expires_at))
        self.store_answered()
        return sessions

    def end_session(self, user_session: UserSession) -> None:
        """End one of a user's sessions as a back-channel logout does: its record and its
        index entries are deleted."""
        self.delete(self._get_store_id(user_session.session_id), user_session.sign_in)

    # Flask-Session's own hooks, for code written against its interface

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        record = self.load(store_id)
        return None if record is None else record.data

    def _delete_session(self, store_id: str) -> None:
        record = self.load(store_id)
        self.delete(store_id, None if record is None else SignIn.of(record.data))

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        expires_at = time.time() + session_lifetime.total_seconds()
        self.save(store_id, dict(session), expires_at, SignIn.of(session))
