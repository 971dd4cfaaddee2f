"""What every baked app answers over HTTP, the same in each framework and with each store.

Each combination runs as its README runs it, against its own OpenID Connect test provider, and
is driven through sign-in, its pages and sign-out. A behaviour is specified here once; each
project's own tests go into the details of its framework and store.
"""

import html
import json
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
from .servers import (
    free_port,
    mongodb,
    project_env,
    protected_api,
    provider,
    serving_readme_app,
)
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
FORM_REFUSED = (
    "This form expired or did not come from this app. Please reload the page and try again."
)
APP_ID = "contract-test"
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
CSRF_INPUT = re.compile(r'<input[^>]*name="(csrf_token|csrfmiddlewaretoken)"[^>]*value="([^"]*)"')
# Issue 16: the apps' API resources, organizations and the API they call.
API = "https://api.example.com"
OTHER_API = "https://other.example.com"
RESOURCE_SCOPES = {API: ["read:items"], OTHER_API: ["other:read"]}
EXPIRES = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
END_FORM = re.compile(r'action="(?:[^"]*?)/sessions/([^"/]+)/end"')
CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)


class App:
    """A baked app being driven as a browser would, with its provider beside it."""

    def __init__(self, base_url: str, endpoint: str, store_kind: str) -> None:
        self.base_url = base_url
        self.endpoint = endpoint
        self.store_kind = store_kind
        self.browser = httpx.Client(base_url=base_url, timeout=30)
        self.provider = httpx.Client(timeout=30)

    def new_browser(self, user_agent: str | None = None) -> httpx.Client:
        headers = {"user-agent": user_agent} if user_agent else None
        return httpx.Client(base_url=self.base_url, timeout=30, headers=headers)

    def sign_in(
        self, sub: str, browser: httpx.Client | None = None, **claims: object
    ) -> httpx.Response:
        """Sign `sub` in through the provider's form (with these ID token claims, e.g.
        `organizations`); the callback's response."""
        browser = browser or self.browser
        if claims:
            self.set_claims(sub, **claims)
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

    def set_claims(self, sub: str, **claims: object) -> None:
        """The claims the provider gives `sub` from now on (a change in Logto's console)."""
        url = f"{self.endpoint}/oidc/users/{sub}"
        self.provider.put(url, json=claims).raise_for_status()

    def remove_resource(self, indicator: str) -> None:
        """Delete an API resource at the provider, as an admin would in Logto."""
        url = f"{self.endpoint}/oidc/test/resources"
        self.provider.request("DELETE", url, json={"indicator": indicator}).raise_for_status()

    def sign_out_form(self) -> dict[str, str]:
        """The hidden fields of the sign-out form on the signed-in home page."""
        return dict(HIDDEN_INPUT.findall(self.browser.get("/").text))


def store_settings(stack: ExitStack, backend: str, project: Path, env: dict[str, str]) -> dict:
    # Each app starts with no sessions, whatever earlier tests left in a shared store.
    name = f"contract-{uuid.uuid4().hex}"
    return {
        "memory": lambda: {},
        "redis": lambda: {"SESSION_KEY_PREFIX": f"{name}:"},
        "mongodb": lambda: {
            "MONGODB_URL": stack.enter_context(mongodb(project, env)),
            "SESSION_KEY_PREFIX": f"{name}:",
        },
        "database": lambda: {"DATABASE_URL": f"sqlite:///{project}/instance/{name}.sqlite3"},
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
        if signs_in:
            for indicator, scopes in RESOURCE_SCOPES.items():
                body = {"indicator": indicator, "scopes": scopes}
                httpx.put(f"{endpoint}/oidc/test/resources", json=body).raise_for_status()
            env |= {
                "LOGTO_SCOPES": "read:items other:read",
                "LOGTO_RESOURCES": f"{API} {OTHER_API}",
                "LOGTO_ORGANIZATION_SCOPES": "read:org",
                "API_URL": stack.enter_context(protected_api(project, env, endpoint, API)),
            }
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
    refused = app.browser.post("/sign-out", data={})
    assert refused.status_code == 403 and FORM_REFUSED in refused.text
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


def csrf_form(page: httpx.Response) -> dict[str, str]:
    """The CSRF field of a page's forms (Flask/FastAPI: `csrf_token`, Django:
    `csrfmiddlewaretoken`)."""
    form = dict(CSRF_INPUT.findall(page.text))
    assert form, f"{page.request.url} has no form with a CSRF token"
    return form


def assert_signed_in_only(app: App, path: str) -> None:
    anonymous = httpx.get(f"{app.base_url}{path}", timeout=30)
    assert anonymous.status_code == 302, path
    assert urlsplit(anonymous.headers["location"]).path == "/sign-in"


def assert_signed_in_page(page: httpx.Response) -> str:
    """A page for signed-in users only: 200, not stored, the usual headers, no raw token."""
    assert page.status_code == 200, (page.request.url, page.text[:2000])
    assert_not_stored(page)
    assert_security_headers(page)
    assert "eyJ" not in page.text, f"{page.request.url} shows a token"
    return page.text


def test_tokens_and_the_api_call_answer_alike(app: App) -> None:
    for path in ("/tokens", "/call-api"):
        assert_signed_in_only(app, path)

    app.sign_in("alice", organizations=["org-1"])
    tokens = assert_signed_in_page(app.browser.get("/tokens"))
    assert "<h1>Tokens</h1>" in tokens
    assert "API resources" in tokens and "Organizations" in tokens
    for label in ("Audience", "Scopes", "Expires"):
        assert label in tokens
    assert API in tokens and "read:items" in tokens
    assert OTHER_API in tokens and "other:read" in tokens
    assert "org-1" in tokens and "urn:logto:organization:org-1" in tokens
    assert "read:org" in tokens
    assert len(EXPIRES.findall(tokens)) >= 3
    assert "Logto gave no token" not in tokens

    called = assert_signed_in_page(app.browser.get("/call-api"))
    assert "The API answered 200." in called
    answer = re.search(r"<pre[^>]*>(.*?)</pre>", called, re.DOTALL)
    assert answer, "the API's answer is shown in a <pre>"
    assert json.loads(html.unescape(answer[1])) == {"sub": "alice", "scope": "read:items"}

    # carol's organization drops her after she signed in, and an admin deletes an API resource.
    carol = app.new_browser()
    app.sign_in("carol", carol, organizations=["org-3"])
    app.set_claims("carol", organizations=[])
    app.remove_resource(OTHER_API)
    refused = assert_signed_in_page(carol.get("/tokens"))
    assert f"Logto gave no token for {OTHER_API}: invalid_target." in refused
    assert "Logto gave no token for organization org-3: invalid_grant." in refused
    assert API in refused and "read:items" in refused  # the other resource still answers
    assert "org-3" in refused
    assert "signed in as" in carol.get("/").text  # a refused grant ends no sign-in


def test_your_devices_answer_alike(app: App) -> None:
    assert_signed_in_only(app, "/sessions")
    anonymous_end = httpx.post(f"{app.base_url}/sessions/end-others", timeout=30)
    assert anonymous_end.status_code in {302, 303, 403}

    alice = app.new_browser(CHROME_ON_LINUX)
    alice_phone = app.new_browser()  # python-httpx
    bob = app.new_browser(FIREFOX_ON_WINDOWS)
    bob_laptop = app.new_browser()
    for sub, browser in [("alice", alice), ("alice", alice_phone), ("bob", bob)]:
        app.sign_in(sub, browser)
    app.sign_in("bob", bob_laptop)

    devices = assert_signed_in_page(alice.get("/sessions"))
    assert "<h1>Your devices</h1>" in devices
    assert len(re.findall(r"Signed in \d{4}-", devices)) == 2  # alice's two, not bob's
    assert len(re.findall(r"Last seen \d{4}-", devices)) == 2
    assert devices.count("This device") == 1
    assert devices.index("Chrome on Linux") < devices.index("python-httpx")  # this one first
    assert "Firefox on Windows" not in devices
    assert "End all other sessions" in devices
    cookies = [value for client in (alice, alice_phone, bob) for value in client.cookies.values()]
    assert not any(value in devices for value in cookies), "a session id is on the page"
    (phone,) = END_FORM.findall(devices)
    (bobs_laptop,) = END_FORM.findall(bob.get("/sessions").text)
    form = csrf_form(alice.get("/sessions"))

    def end(handle: str, data: dict[str, str], **headers: str) -> httpx.Response:
        return alice.post(f"/sessions/{handle}/end", data=data, headers=headers)

    # Not alice's, unknown, malformed: 404, and nothing ends.
    for handle in (bobs_laptop, "0" * 32, "not-a-handle"):
        not_yours = end(handle, form)
        assert not_yours.status_code == 404, handle
        assert "You have no such session: it may have ended already." in not_yours.text
    assert "signed in as" in bob_laptop.get("/").text
    # No CSRF token, or another origin: 403, and nothing ends.
    refused = end(phone, {})
    assert refused.status_code == 403 and FORM_REFUSED in refused.text
    assert end(phone, form, origin="http://127.0.0.1:1").status_code == 403
    assert alice.post("/sessions/end-others", data={}).status_code == 403
    assert "signed in as" in alice_phone.get("/").text

    ended = end(phone, form)
    assert ended.status_code == 303
    assert urlsplit(ended.headers["location"]).path == "/sessions"
    assert "not signed in" in alice_phone.get("/").text
    devices = assert_signed_in_page(alice.get("/sessions"))
    assert len(re.findall(r"Signed in \d{4}-", devices)) == 1
    assert "End all other sessions" not in devices

    # Two more of alice's; "end all other sessions" from one of them ends the others.
    alice_tablet, alice_desktop = app.new_browser(), app.new_browser()
    app.sign_in("alice", alice_tablet)
    app.sign_in("alice", alice_desktop)
    tablet_page = alice_tablet.get("/sessions")
    assert len(END_FORM.findall(tablet_page.text)) == 2
    others_ended = alice_tablet.post("/sessions/end-others", data=csrf_form(tablet_page))
    assert others_ended.status_code == 303
    assert urlsplit(others_ended.headers["location"]).path == "/sessions"
    for browser in (alice, alice_desktop):
        assert "not signed in" in browser.get("/").text
    assert "signed in as" in alice_tablet.get("/").text
    assert "signed in as" in bob.get("/").text and "signed in as" in bob_laptop.get("/").text

    # Ending this session by its own handle is a sign-out here.
    app.sign_in("alice", alice)
    (tablet,) = END_FORM.findall(alice.get("/sessions").text)
    own = alice_tablet.post(
        f"/sessions/{tablet}/end", data=csrf_form(alice_tablet.get("/sessions"))
    )
    assert own.status_code == 303
    assert urlsplit(own.headers["location"]).path == "/"
    assert "not signed in" in alice_tablet.get("/").text
    assert "signed in as" in alice.get("/").text
