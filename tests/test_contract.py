"""What every baked app answers over HTTP, the same in each framework and with each store.

Each combination runs as its README runs it, against its own OpenID Connect test provider, and
is driven through sign-in, its pages and sign-out. A behaviour is specified here once; each
project's own tests go into the details of its framework and store.
"""

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from .conftest import COMBINATIONS, run
from .servers import free_port, mongodb, project_env, provider, serving_readme_app
from .test_bake import COMBINATION_IDS

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
# Cookie values that are no session id of the app's: keys of other records, a path, a flood.
FOREIGN_SESSION_IDS = [
    "provider-session:x",
    "index:sub:alice",
    "logout-token:x",
    "../x",
    "a" * 4000,
]
STORE_KINDS = {
    "memory": "memory",
    "redis": "Redis",
    "mongodb": "MongoDB",
    "database": "SQL database",
}
LOGTO_SETTINGS = ("LOGTO_ENDPOINT", "LOGTO_APP_ID", "LOGTO_APP_SECRET")
APP_ID = "contract-test"
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


class App:
    """A baked app being driven as a browser would, with its provider beside it."""

    def __init__(self, base_url: str, endpoint: str, store_kind: str) -> None:
        self.base_url = base_url
        self.endpoint = endpoint
        self.store_kind = store_kind
        self.browser = httpx.Client(base_url=base_url, timeout=30)
        self.provider = httpx.Client(timeout=30)

    def new_browser(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)

    def sign_in(self, sub: str, browser: httpx.Client | None = None) -> httpx.Response:
        """Sign `sub` in through the provider's form; the callback's response."""
        browser = browser or self.browser
        started = browser.get("/sign-in")
        assert started.status_code == 302, started.text
        authorized = self.provider.post(started.headers["location"], data={"sub": sub})
        assert authorized.status_code == 302, authorized.text
        return browser.get(authorized.headers["location"])

    def logout_token(self, sub: str) -> str:
        """A back-channel logout token for `sub`, signed by the provider as Logto signs one."""
        now = int(time.time())
        claims = {
            "iss": f"{self.endpoint}/oidc",
            "aud": APP_ID,
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
            "sub": sub,
        }
        signed = self.provider.post(f"{self.endpoint}/oidc/test/sign-logout-token", json=claims)
        signed.raise_for_status()
        return signed.text

    def sign_out_form(self) -> dict[str, str]:
        """The hidden fields of the sign-out form on the signed-in home page."""
        return dict(HIDDEN_INPUT.findall(self.browser.get("/").text))


def store_settings(stack: ExitStack, backend: str, project: Path, env: dict[str, str]) -> dict:
    prefix = f"contract-{uuid.uuid4().hex}:"
    return {
        "memory": lambda: {},
        "redis": lambda: {"SESSION_KEY_PREFIX": prefix},
        "mongodb": lambda: {"MONGODB_URL": stack.enter_context(mongodb(project, env))},
        "database": lambda: {"DATABASE_URL": f"sqlite:///{project}/instance/contract.sqlite3"},
    }[backend]()


def running_app(combination: tuple[str, str], baked, signs_in: bool) -> Iterator[App]:
    """The combination's app as its README runs it; without Logto settings unless `signs_in`."""
    framework, backend = combination
    project = baked(framework, backend)
    env = project_env()
    assert run(["uv", "sync", "-q"], project).returncode == 0
    with ExitStack() as stack:
        env |= store_settings(stack, backend, project, env)
        endpoint = stack.enter_context(provider(project, env))
        port = free_port()
        logto = (endpoint, APP_ID, "contract-test-secret") if signs_in else ("", "", "")
        env |= {"APP_ENV": "development", "BASE_URL": f"http://127.0.0.1:{port}"}
        env |= dict(zip(LOGTO_SETTINGS, logto, strict=True))
        base_url = stack.enter_context(serving_readme_app(project, env, port))
        yield App(base_url, endpoint, STORE_KINDS[backend])


@pytest.fixture(params=COMBINATIONS, ids=COMBINATION_IDS)
def app(request: pytest.FixtureRequest, baked) -> Iterator[App]:
    yield from running_app(request.param, baked, signs_in=True)


@pytest.fixture(params=COMBINATIONS, ids=COMBINATION_IDS)
def app_without_logto(request: pytest.FixtureRequest, baked) -> Iterator[App]:
    yield from running_app(request.param, baked, signs_in=False)


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)


def assert_not_stored(response: httpx.Response) -> None:
    assert "no-store" in response.headers.get("cache-control", ""), response.request.url


def test_every_app_answers_alike(app: App) -> None:
    anonymous = app.browser.get("/")
    assert anonymous.status_code == 200
    assert "Hello Logto!" in anonymous.text and "not signed in" in anonymous.text
    assert "set-cookie" not in anonymous.headers  # an anonymous page view stores nothing
    assert "cookie" in anonymous.headers.get("vary", "").lower()
    assert_security_headers(anonymous)

    health = app.browser.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "session_store": f"{app.store_kind}: ok"}
    assert_security_headers(health)

    missing = app.browser.get("/no-such-page")
    assert missing.status_code == 404
    assert_security_headers(missing)

    for foreign in FOREIGN_SESSION_IDS:
        for cookie in ("session", "sessionid"):
            page = httpx.get(f"{app.base_url}/", cookies={cookie: foreign}, timeout=30)
            assert page.status_code == 200, (foreign, page.text)
            assert "not signed in" in page.text

    forged = app.browser.get("/callback", params={"code": "x", "state": "forged"})
    assert forged.status_code == 400
    assert_security_headers(forged)

    to_sign_in = app.browser.get("/profile")
    assert to_sign_in.status_code == 302
    assert urlsplit(to_sign_in.headers["location"]).path == "/sign-in"

    callback = app.sign_in("alice")
    assert callback.status_code == 302 and callback.headers["location"].endswith("/profile")
    assert_not_stored(callback)
    profile = app.browser.get("/profile")
    assert profile.status_code == 200 and "alice" in profile.text
    assert_not_stored(profile)
    assert_security_headers(profile)
    signed_in = app.browser.get("/")
    assert "signed in as" in signed_in.text
    assert_not_stored(signed_in)
    assert "cookie" in signed_in.headers.get("vary", "").lower()

    form = app.sign_out_form()
    assert form, "the signed-in home page has a sign-out form with its CSRF token"
    assert app.browser.post("/sign-out", data={}).status_code == 403
    foreign_origin = {"origin": "http://127.0.0.1:1"}
    assert app.browser.post("/sign-out", data=form, headers=foreign_origin).status_code == 403
    assert "signed in as" in app.browser.get("/").text  # a refused sign-out ends nothing
    signed_out = app.browser.post("/sign-out", data=form)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith(f"{app.endpoint}/oidc/")
    assert_not_stored(signed_out)
    assert "not signed in" in app.browser.get("/").text


def test_back_channel_logout_answers_alike(app: App) -> None:
    def deliver(**form: str) -> httpx.Response:
        answer = httpx.post(f"{app.base_url}/backchannel-logout", data=form, timeout=30)
        assert_not_stored(answer)
        return answer

    missing = deliver()
    assert missing.status_code == 400
    assert missing.json() == {
        "error": "invalid_request",
        "error_description": "logout_token is missing",
    }
    refused = deliver(logout_token="not-a-jwt")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    assert refused.json()["error_description"].startswith("invalid logout token: ")

    bob = app.new_browser()
    app.sign_in("bob", bob)
    assert "signed in as" in bob.get("/").text
    ended = deliver(logout_token=app.logout_token("bob"))
    assert ended.status_code == 200
    assert ended.json() == {"ended_sessions": 1}
    assert "not signed in" in bob.get("/").text


def test_sign_in_without_logto_settings_names_them_alike(app_without_logto: App) -> None:
    app = app_without_logto
    assert app.browser.get("/").status_code == 200  # the app runs; only sign-in needs Logto
    not_set_up = app.browser.get("/sign-in")
    assert not_set_up.status_code == 503
    assert "Sign-in is not set up" in not_set_up.text
    assert (
        "Sign-in is not set up yet: set LOGTO_ENDPOINT, LOGTO_APP_ID, LOGTO_APP_SECRET in .env"
        " (see README.md)." in not_set_up.text
    )
    assert_security_headers(not_set_up)
    logout = app.browser.post("/backchannel-logout", data={"logout_token": "x"})
    assert logout.status_code == 503
    assert logout.json() == {
        "error": "temporarily_unavailable",
        "error_description": "sign-in is not set up",
    }
