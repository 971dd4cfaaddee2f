"""Server-side sessions that cost the store as little as a request allows.

The cookie holds only a random session id. The session is `request.session`, as with
Starlette's own SessionMiddleware, so that whatever reads it there works; it is read from the
store only when the cookie names one, so an anonymous page touches no store and sets no
cookie. As the response starts, the session is saved only when it differs from what the
store holds (compared as serialized, so a value changed in place counts too); an
unchanged session only has its expiry pushed back, and only once a tenth of its lifetime
has passed since the last time (SLIDE_AFTER), so that a signed-in page view usually costs
one read and no write. An emptied session is deleted and its cookie expired.

A session that is not signed in (it holds only a sign-in under way) is kept SIGN_IN_TIMEOUT
seconds from when it was written and never slid: only a signed-in one lives SESSION_LIFETIME.
A cookie whose value is not an id of the form `new_session_id` draws is no session at all:
it costs no store access, and no key of the store's other records can be named through it.
"""

import logging
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .session_store import AppSessionStore, UnreadableSessionError

logger = logging.getLogger(__name__)

SCOPE_KEY = "app_session"
SLIDE_AFTER = 0.1  # of the lifetime: how long an unchanged session keeps its expiry
SIGN_IN_TIMEOUT = 600  # seconds a sign-in may take, from /sign-in to /callback
SESSION_ID = re.compile(r"[0-9a-f]{32}")  # what `new_session_id` draws, and nothing else

IsSignedIn = Callable[[Mapping[str, Any]], bool]  # whether a session is signed in


def new_session_id() -> str:
    return secrets.token_hex(16)


def is_session_id(value: str) -> bool:
    return SESSION_ID.fullmatch(value) is not None


# orjson rather than the standard library's json: every signed-in page parses its session,
# and orjson does that in a third of the time. Sorted keys: equal sessions, equal bytes.
def serialize(session: dict[str, Any]) -> bytes:
    return orjson.dumps(session, option=orjson.OPT_SORT_KEYS)


def deserialize(data: bytes) -> dict[str, Any]:
    try:
        session = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise UnreadableSessionError("not JSON") from error
    if not isinstance(session, dict):
        raise UnreadableSessionError("not a JSON object")
    return session


class AppSession:
    """The session of one request: its id, its content, and what the store holds of it."""

    def __init__(
        self,
        store: AppSessionStore,
        session_id: str | None,
        lifetime: int,
        is_signed_in: IsSignedIn,
    ) -> None:
        self.store = store
        self.lifetime = lifetime
        self.is_signed_in = is_signed_in
        self.id = session_id  # None until the session is stored, or when the cookie's is unknown
        self.data: dict[str, Any] = {}
        self._stored: bytes | None = None  # what the store holds under `id`, as loaded or saved
        self._expires_in = 0.0  # seconds the stored session had left when loaded
        self._renewed = False  # saved or touched: the cookie starts a new lifetime too
        self.ttl = lifetime  # how long the store keeps it from its last save or touch

    async def load(self) -> dict[str, Any]:
        """Read the session that the cookie names, if any; its content is `data`."""
        stored = None
        if self.id is not None:
            try:
                stored = await self.store.load(self.id)
                self.data = deserialize(stored.data) if stored is not None else {}
            except UnreadableSessionError:
                logger.warning("A session record that cannot be read counts as none")
                stored = None
        if stored is None:
            # An id the store does not know (expired, or made up by the client) is never
            # adopted, or whoever chose it could share the session: a new one is drawn.
            self.id = None
        else:
            self._stored, self._expires_in = stored.data, stored.expires_in
        return self.data

    async def rotate_id(self) -> str:
        """Give the session a new id, under which it is saved, and delete it under the old one."""
        old_id, self.id, self._stored = self.id, new_session_id(), None
        if old_id is not None:
            await self.store.delete(old_id)
        return self.id

    async def save(self) -> bool:
        """Save the session if it differs from what the store holds; whether it did."""
        if not self.data or (data := serialize(self.data)) == self._stored:
            return False
        self.id = self.id or new_session_id()
        signed_in = self.is_signed_in(self.data)
        self.ttl = self.lifetime if signed_in else min(SIGN_IN_TIMEOUT, self.lifetime)
        await self.store.save(self.id, data, ttl=self.ttl, signed_in=signed_in)
        self._stored, self._expires_in, self._renewed = data, self.ttl, True
        return True

    async def commit(self) -> bool | None:
        """Bring the store up to date at the end of the request.

        True: the cookie must name the session (again, for a new lifetime); False: the cookie
        must go; None: the cookie stays as it is.
        """
        if not self.data:
            if self.id is None:
                return None
            await self.store.delete(self.id)
            return False
        if not await self.save() and (
            self.is_signed_in(self.data)
            and not self.lifetime * (1 - SLIDE_AFTER) <= self._expires_in <= self.lifetime + 1
        ):
            # Past a tenth of its lifetime, or stored for longer than SESSION_LIFETIME now
            # allows (it was lowered since): the session gets a full lifetime from now.
            # A sign-in under way is never slid: it ends SIGN_IN_TIMEOUT after /sign-in.
            assert self.id is not None
            await self.store.touch(self.id, ttl=self.lifetime)
            self._renewed = True
        return True if self._renewed else None


def app_session(connection: HTTPConnection) -> AppSession:
    return connection.scope[SCOPE_KEY]


class SessionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        store: AppSessionStore,
        lifetime: int,
        is_signed_in: IsSignedIn,
        cookie_name: str = "session",
        https_only: bool = True,
    ) -> None:
        self.app = app
        self.store = store
        self.lifetime = lifetime
        self.is_signed_in = is_signed_in
        self.cookie_name = cookie_name
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = HTTPConnection(scope).cookies.get(self.cookie_name, "")
        session_id = cookie if is_session_id(cookie) else None
        session = AppSession(self.store, session_id, self.lifetime, self.is_signed_in)
        scope[SCOPE_KEY] = session
        scope["session"] = await session.load()

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                keep = await session.commit()
                if keep is not None:
                    MutableHeaders(scope=message).append("set-cookie", self._cookie(session, keep))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, session: AppSession, keep: bool) -> str:
        """The Set-Cookie header naming the session (`keep`), or expiring its cookie."""
        # Written by Starlette's own cookie API, on a response that serves only for that.
        cookie, secure = Response(), self.https_only
        if keep:
            assert session.id is not None
            cookie.set_cookie(
                self.cookie_name,
                session.id,
                max_age=session.ttl,
                path="/",
                secure=secure,
                httponly=True,
                samesite="lax",
            )
        else:
            cookie.delete_cookie(
                self.cookie_name, path="/", secure=secure, httponly=True, samesite="lax"
            )
        return cookie.headers["set-cookie"]
