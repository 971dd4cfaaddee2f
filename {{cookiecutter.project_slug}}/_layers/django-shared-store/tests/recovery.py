"""The app under gunicorn, its worker's threads all busy, while its store restarts."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from django.conf import settings

from .oidc_provider import OidcProvider
from .servers import free_port, serve_app

CLIENTS = 16  # at once: more than the worker's threads (gunicorn.conf.py), so all serve
REQUESTS = 64
PAGES = ("/", "/healthz")  # the plain views, served in the worker's own threads


def statuses_across_threads(app: str, cookies: dict[str, str]) -> list[int]:
    """The statuses of REQUESTS requests of the session, CLIENTS at a time."""

    def visit(number: int) -> int:
        page = PAGES[number % len(PAGES)]
        return httpx.get(f"{app}{page}", cookies=cookies, timeout=30).status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(visit, range(REQUESTS)))


def assert_no_503_after_restart(
    logto: OidcProvider, env: dict[str, str], restart: Callable[[], object]
) -> None:
    """Sign in and visit through every thread; `restart()` the store; every next request
    succeeds, whichever thread serves it."""
    port = free_port()
    env = {
        **env,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "LOGTO_ENDPOINT": logto.endpoint,
        "LOGTO_APP_ID": "test-app",
        "LOGTO_APP_SECRET": "test-secret",
    }
    with serve_app(port, env) as app:
        browser = httpx.Client(base_url=app)
        callback_url = logto.authorize(browser.get("/sign-in").headers["location"], name="Alice")
        assert browser.get(callback_url).status_code == 302
        cookies = {settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME]}
        assert set(statuses_across_threads(app, cookies)) == {200}
        restart()
        assert set(statuses_across_threads(app, cookies)) == {200}
        assert "Alice" in httpx.get(f"{app}/", cookies=cookies).text
