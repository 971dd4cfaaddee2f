"""Server-side sessions that cost the store as little as a request allows.

The cookie holds only a random session id. A request loads its session from the store only
when it asks for it (`AppSession.load`), so an anonymous page touches no store and sets no
cookie. As the response starts, the session is saved only when it was changed (as with
Flask's session, a value changed in place does not count: assign it again); an
unchanged session only has its expiry pushed back, and only once a tenth of its lifetime
has passed since the last time (SLIDE_AFTER), so that a signed-in page view usually costs
one read and no write. An emptied session is deleted and its cookie expired.
"""

import secrets
from typing import Any

import orjson
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .session_store import AppSessionStore

SCOPE_KEY = "app_session"
SLIDE_AFTER = 0.1  # of the lifetime: how long an unchanged session keeps its expiry


class Session(dict[str, Any]):
    """A session's content, which notes whether anything was set or removed since loaded."""

    modified = False

    def __setitem__(self, key: str, value: Any) -> None:
        self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.modified = True
        super().__delitem__(key)

    def clear(self) -> None:
        self.modified = True
        super().clear()

    def pop(self, key: str, *default: Any) -> Any:
        self.modified = self.modified or key in self
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        self.modified = True
        return super().popitem()

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.modified = self.modified or key not in self
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.modified = True
        super().update(*args, **kwargs)


def new_session_id() -> str:
    return secrets.token_hex(16)


# orjson rather than the standard library's json: every signed-in page parses its session,
# and orjson does that in a third of the time. Sorted keys: equal sessions, equal bytes.
def serialize(session: dict[str, Any]) -> bytes:
    return orjson.dumps(session, option=orjson.OPT_SORT_KEYS)


def deserialize(data: bytes) -> dict[str, Any]:
    return orjson.loads(data)


class AppSession:
    """The session of one request: its id, its content once loaded, and what the store holds."""

    def __init__(self, store: AppSessionStore, session_id: str | None, lifetime: int) -> None:
        self.store = store
        self.lifetime = lifetime
        self.id = session_id  # None until the session is stored, or when the cookie's is unknown
        self.data: Session | None = None  # None until loaded
        self._stored: bytes | None = None  # what the store holds under `id`, as loaded or saved
        self._expires_in = 0.0  # seconds the stored session had left when loaded
        self._renewed = False  # saved or touched: the cookie starts a new lifetime too

    async def load(self) -> Session:
        if self.data is None:
            stored = await self.store.load(self.id) if self.id is not None else None
            if stored is None:
                # An id the store does not know (expired, or made up by the client) is never
                # adopted, or whoever chose it could share the session: a new one is drawn.
                self.id, self.data = None, Session()
            else:
                self.data = Session(deserialize(stored.data))
                self._stored, self._expires_in = stored.data, stored.expires_in
        return self.data

    async def rotate_id(self) -> str:
        """Give the session a new id, under which it is saved, and delete it under the old one."""
        old_id, self.id, self._stored = self.id, new_session_id(), None
        if self.data is not None:
            self.data.modified = True  # to be saved under the new id
        if old_id is not None:
            await self.store.delete(old_id)
        return self.id

    async def save(self) -> None:
        """Save the session now if it changed, rather than as the response starts."""
        if self.data is not None and self.data:
            await self._save(serialize(self.data))

    async def _save(self, data: bytes) -> None:
        if data != self._stored:
            self.id = self.id or new_session_id()
            await self.store.save(self.id, data, ttl=self.lifetime)
            self._stored, self._expires_in, self._renewed = data, self.lifetime, True
        if self.data is not None:
            self.data.modified = False

    async def commit(self) -> bool | None:
        """Bring the store up to date at the end of the request.

        True: the cookie must name the session (again, for a new lifetime); False: the cookie
        must go; None: the cookie stays as it is.
        """
        if self.data is None:
            return None
        if not self.data:
            if self.id is None:
                return None
            await self.store.delete(self.id)
            return False
        if self.data.modified and (data := serialize(self.data)) != self._stored:
            await self._save(data)
        elif not self.lifetime * (1 - SLIDE_AFTER) <= self._expires_in <= self.lifetime + 1:
            # Past a tenth of its lifetime, or stored for longer than SESSION_LIFETIME now
            # allows (it was lowered since): the session gets a full lifetime from now.
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
        cookie_name: str = "session",
        https_only: bool = True,
    ) -> None:
        self.app = app
        self.store = store
        self.lifetime = lifetime
        self.cookie_name = cookie_name
        self.flags = "path=/; httponly; samesite=lax" + ("; secure" if https_only else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = scope[SCOPE_KEY] = AppSession(self.store, self._cookie_id(scope), self.lifetime)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                keep = await session.commit()
                if keep is not None:
                    MutableHeaders(scope=message).append("set-cookie", self._cookie(session, keep))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie_id(self, scope: Scope) -> str | None:
        # Straight from the raw headers: every request passes here, most without a cookie.
        for name, value in scope["headers"]:
            if name == b"cookie":
                return cookie_parser(value.decode("latin-1")).get(self.cookie_name) or None
        return None

    def _cookie(self, session: AppSession, keep: bool) -> str:
        if keep:
            return f"{self.cookie_name}={session.id}; max-age={self.lifetime}; {self.flags}"
        return f'{self.cookie_name}=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; {self.flags}'
