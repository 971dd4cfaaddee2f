"""Requests served in-process, with no server: the driver that `instructions.py` runs with a
baked project's interpreter (or the bare app's, in the same env), under callgrind.

    python inprocess.py wsgi|asgi ENTRY_POINT REQUESTS TARGET... [--cprofile]

ENTRY_POINT is what the server is given (`pkg.app:create_app()`, `pkg.main:app`,
`config.wsgi`, `bare_flask:app`); TARGET is `anonymous`, `signed_in` (signs in first, through
the real flow against LOGTO_ENDPOINT's provider) or `bare`. Every request is `GET /` as it
reaches the app behind the TLS proxy and its server: https (`wsgi.url_scheme`, the ASGI
scope's `scheme`) and `X-Forwarded-Proto: https`, on the app's BASE_URL's host.

The process marks its phases with `os.getsid(0)`, which callgrind is told to dump its counts
before (`--dump-before=getsid`): start-up, sign-in and 200 warm-up requests of each target,
then REQUESTS requests of each TARGET in turn. With `--cprofile`, no marks: each target's
requests run under cProfile and the top of its profile is printed.

Nothing here is imported from the benchmark's modules: this runs in the project's env.
"""

from __future__ import annotations

import asyncio
import cProfile
import importlib
import io
import os
import pstats
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

WARM_UP = 200
USER_SUB, USER_NAME = "bench-user", "Bench User"
Response = tuple[int, list[tuple[str, str]], bytes]
Caller = Callable[[str, str, str | None], Response]
shutdowns: list[Callable[[], None]] = []  # run at the end: the ASGI app's lifespan shutdown


def load(entry_point: str) -> Any:
    """The app of a server's entry point: `module:attr`, `module:factory()`, or a module
    whose `application` is the app (gunicorn's `config.wsgi`)."""
    module_name, _, attr = entry_point.partition(":")
    module = importlib.import_module(module_name)
    if not attr:
        return module.application
    if attr.endswith("()"):
        return getattr(module, attr[:-2])()
    return getattr(module, attr)


def host() -> tuple[str, int]:
    url = urllib.parse.urlsplit(os.environ.get("BASE_URL", "https://127.0.0.1:8443"))
    return url.hostname or "127.0.0.1", url.port or 443


def wsgi_caller(app: Any) -> Caller:
    name, port = host()
    base = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "SERVER_NAME": name,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": f"{name}:{port}",
        "HTTP_X_FORWARDED_PROTO": "https",
        "wsgi.url_scheme": "https",  # as gunicorn sets it from the trusted header
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }

    def call(path: str, query: str = "", cookie: str | None = None) -> Response:
        environ = base | {"PATH_INFO": path, "QUERY_STRING": query, "wsgi.input": io.BytesIO()}
        if cookie:
            environ["HTTP_COOKIE"] = cookie
        started: list[Any] = []

        def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            started[:] = [int(status[:3]), headers]
            return lambda data: None

        body_iterable = app(environ, start_response)
        try:
            body = b"".join(body_iterable)
        finally:
            if hasattr(body_iterable, "close"):
                body_iterable.close()
        return started[0], started[1], body

    return call


def asgi_caller(app: Any) -> Caller:
    """Requests as uvicorn makes them, on one event loop, after the app's lifespan start-up
    (its state copied into each request, as uvicorn does)."""
    loop = asyncio.new_event_loop()
    state: dict[str, Any] = {}
    name, port = host()
    lifespan_messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = loop.create_future()

    async def lifespan_receive() -> dict[str, Any]:
        return await lifespan_messages.get()

    async def lifespan_send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup") and not started.done():
            started.set_result(message)

    lifespan_scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    lifespan_messages.put_nowait({"type": "lifespan.startup"})
    lifespan = loop.create_task(app(lifespan_scope, lifespan_receive, lifespan_send))
    if loop.run_until_complete(started)["type"] != "lifespan.startup.complete":
        raise SystemExit("the app's lifespan start-up failed")

    def shutdown() -> None:
        lifespan_messages.put_nowait({"type": "lifespan.shutdown"})
        loop.run_until_complete(lifespan)

    shutdowns.append(shutdown)

    async def request(path: str, query: str, cookie: str | None) -> Response:
        headers = [(b"host", f"{name}:{port}".encode()), (b"x-forwarded-proto", b"https")]
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": (name, port),
            "client": ("127.0.0.1", 40000),
            "scheme": "https",  # as uvicorn's --proxy-headers sets it from the header
            "method": "GET",
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "state": state.copy(),
        }
        sent: list[dict[str, Any]] = []
        received = False

        async def receive() -> dict[str, Any]:
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()  # no disconnect while the app answers
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        start = sent[0]
        body = b"".join(message.get("body", b"") for message in sent[1:])
        decoded = [(key.decode(), value.decode()) for key, value in start["headers"]]
        return start["status"], decoded, body

    def call(path: str, query: str = "", cookie: str | None = None) -> Response:
        return loop.run_until_complete(request(path, query, cookie))

    return call


class Browser:
    """The cookies of one browser, from the app's Set-Cookie headers."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def take(self, headers: list[tuple[str, str]]) -> None:
        for key, value in headers:
            if key.lower() == "set-cookie":
                for name, morsel in SimpleCookie(value).items():
                    expired = morsel["max-age"] == "0" or not morsel.value
                    if expired:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value

    @property
    def header(self) -> str | None:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items()) or None


def header(headers: list[tuple[str, str]], name: str) -> str:
    return next(value for key, value in headers if key.lower() == name)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def sign_in(call: Caller) -> str:
    """The real flow, in-process: /sign-in, the provider's form, /callback; the Cookie header."""
    browser = Browser()
    status, headers, _ = call("/sign-in", "", None)
    assert status in (302, 303, 307), f"/sign-in answered {status}"
    browser.take(headers)
    form = urllib.parse.urlencode({"sub": USER_SUB}).encode()
    opener = urllib.request.build_opener(NoRedirects)
    try:
        opener.open(urllib.request.Request(header(headers, "location"), data=form), timeout=30)
        raise AssertionError("the provider did not redirect")
    except urllib.error.HTTPError as redirect:
        callback = urllib.parse.urlsplit(redirect.headers["Location"])
    status, headers, body = call(callback.path, callback.query, browser.header)
    assert status in (302, 303, 307), f"/callback answered {status}: {body[:300]!r}"
    browser.take(headers)
    assert browser.header is not None
    return browser.header


def main(argv: list[str]) -> int:
    profile = "--cprofile" in argv
    interface, entry_point, requests, *targets = [arg for arg in argv if arg != "--cprofile"]
    sys.path[:0] = [os.getcwd()]
    app = load(entry_point)
    call = wsgi_caller(app) if interface == "wsgi" else asgi_caller(app)
    cookies = {"bare": None, "anonymous": None}
    if "signed_in" in targets:
        cookies["signed_in"] = sign_in(call)
    for target in targets:
        for _ in range(WARM_UP):
            status, _, body = call("/", "", cookies[target])
            assert status == 200, f"{target}: / answered {status}: {body[:300]!r}"
        shown = USER_NAME.encode() in body or USER_SUB.encode() in body
        assert shown == (target == "signed_in"), f"{target}: the page is not what it should be"
    for target in targets:
        cookie = cookies[target]
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
        else:
            os.getsid(0)  # the end of the phase before: callgrind dumps its counts
        for _ in range(int(requests)):
            call("/", "", cookie)
        if profile:
            profiler.disable()
            print(f"== {target}: {requests} requests")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    if not profile:
        os.getsid(0)
    for shutdown in shutdowns:
        shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
