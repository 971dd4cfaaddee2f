"""Tokens for API resources and organizations: got through the sign-in's refresh token, kept
in the server-side session, shown by their claims (never the token), and an API called with
one; a refusal or an unreachable Logto is a note on the page, never an error or a sign-out."""

import asyncio
import html
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask
from flask.testing import FlaskClient
from logto.OidcCore import OidcCore
from werkzeug.test import TestResponse

from {{ cookiecutter.project_slug }}.devices import timestamp
from {{ cookiecutter.project_slug }}.session_storage import SessionStorage
from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import make_app, session_id, sign_in
from .oidc_provider import OidcProvider
from .protected_api import ProtectedApi
from .servers import free_port
from .store import store_traffic

ORGANIZATION_SCOPES = ("read:members",)


def new_resources(provider: OidcProvider, count: int = 2) -> tuple[str, ...]:
    """API resources of this test alone (the provider outlives it): the first with the scopes
    read:items and write:items, the others with other:read."""
    run = uuid.uuid4().hex[:8]
    indicators = tuple(f"https://api-{number}-{run}.example.com" for number in range(count))
    provider.add_resource(indicators[0], scopes=["read:items", "write:items"])
    for indicator in indicators[1:]:
        provider.add_resource(indicator, scopes=["other:read"])
    return indicators


def app_with(
    settings: Settings, resources: tuple[str, ...], organizations: bool = True, **changes: object
) -> Flask:
    return make_app(
        settings,
        logto_scopes=("email", "read:items", "other:read"),
        logto_resources=resources,
        logto_organization_scopes=ORGANIZATION_SCOPES if organizations else (),
        **changes,
    )


def text_of(page: TestResponse) -> str:
    """The page's text, one space between words, without tags."""
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page.text).split()))


def stored_tokens(client: FlaskClient) -> dict[str, str]:
    """The SDK's access tokens in the session: resource (or organization URN) -> token."""
    with client.session_transaction() as session:
        token_map = SessionStorage(session).get("accessTokenMap")
    entries = json.loads(token_map or '{"x": {}}')["x"]
    return {name: entry["token"] for name, entry in entries.items()}


def assert_no_token_shown(page: TestResponse) -> None:
    assert "eyJ" not in page.text


def test_tokens_of_two_resources_and_two_organizations(
    settings: Settings, provider: OidcProvider
) -> None:
    api, other_api = new_resources(provider)
    client = app_with(settings, (api, other_api)).test_client()
    sign_in(client, provider, sub="alice", organizations=["org-1", "org-2"])
    before = time.time()

    page = client.get("/tokens")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "<h1>Tokens</h1>" in page.text
    text = text_of(page)
    expires = {f"Expires {timestamp(moment + 3600)}" for moment in (before, time.time())}
    for name, audience, scopes in [
        (api, api, "read:items"),
        (other_api, other_api, "other:read"),
        ("org-1", "urn:logto:organization:org-1", "read:members"),
        ("org-2", "urn:logto:organization:org-2", "read:members"),
    ]:
        shown = re.search(rf"{re.escape(name)} Audience (\S+) Scopes (.+?) (Expires .+? UTC)", text)
        assert shown is not None, (name, text)
        assert shown.groups()[:2] == (audience, scopes)
        assert shown.group(3) in expires
    assert text.index("API resources") < text.index(api) < text.index("Organizations")
    assert text.index("Organizations") < text.index("org-1")
    assert_no_token_shown(page)
    # The tokens are in the server-side session, under the SDK's names.
    assert set(stored_tokens(client)) >= {
        api,
        other_api,
        "urn:logto:organization:org-1",
        "urn:logto:organization:org-2",
    }


def test_tokens_in_the_session_are_used_until_they_expire(
    settings: Settings, provider: OidcProvider
) -> None:
    (api,) = new_resources(provider, 1)
    app = app_with(settings, (api,))
    client = app.test_client()
    sign_in(client, provider, sub="alice", organizations=["org-1"])
    client.get("/tokens")
    tokens = stored_tokens(client)
    with store_traffic(app) as traffic:
        page = client.get("/tokens")
    assert "Audience" in page.text
    assert stored_tokens(client) == tokens
    assert len(traffic.reads) == 1, traffic
    assert traffic.writes == [], traffic


def test_a_resource_removed_at_logto_is_a_note(settings: Settings, provider: OidcProvider) -> None:
    api, other_api = new_resources(provider)
    client = app_with(settings, (api, other_api)).test_client()
    sign_in(client, provider, sub="alice")
    provider.remove_resource(other_api)

    page = client.get("/tokens")
    assert page.status_code == 200
    text = text_of(page)
    assert f"Logto gave no token for {other_api}: invalid_target." in text
    assert f"{api} Audience {api}" in text
    # A refused grant is not the end of the sign-in.
    assert "signed in as" in client.get("/").text
    assert stored_tokens(client).keys() >= {api}
    with client.session_transaction() as session:
        assert SessionStorage(session).get("refreshToken") is not None


def test_an_organization_the_user_is_no_member_of_is_a_note(
    settings: Settings, provider: OidcProvider
) -> None:
    (api,) = new_resources(provider, 1)
    client = app_with(settings, (api,)).test_client()
    sub = f"dora-{uuid.uuid4().hex[:8]}"
    sign_in(client, provider, sub=sub, organizations=["org-1", "org-2"])
    # She leaves org-2 at Logto; her ID token still names it.
    sign_in(app_with(settings, (api,)).test_client(), provider, sub=sub, organizations=["org-1"])

    page = client.get("/tokens")
    assert page.status_code == 200
    text = text_of(page)
    assert "org-1 Audience urn:logto:organization:org-1" in text
    assert "Logto gave no token for organization org-2: invalid_grant." in text
    assert "signed in as" in client.get("/").text


def test_logto_unreachable_is_a_note(settings: Settings) -> None:
    with OidcProvider.run() as provider:
        (api,) = new_resources(provider, 1)
        with ProtectedApi.run(endpoint=provider.endpoint, audience=api) as protected:
            app = app_with(
                settings, (api,), logto_endpoint=provider.endpoint, api_url=protected.url
            )
            client = app.test_client()
            sign_in(client, provider, sub="alice", organizations=["org-1"])
    # Logto (and the API) stopped: the ID token is still valid, no token was fetched yet.
    page = client.get("/tokens")
    assert page.status_code == 200
    text = text_of(page)
    assert f"Logto gave no token for {api}: Logto is unreachable." in text
    assert "Logto gave no token for organization org-1: Logto is unreachable." in text
    called = client.get("/call-api")
    assert called.status_code == 200
    assert f"Logto gave no token for {api}: Logto is unreachable." in text_of(called)
    assert "signed in as" in client.get("/").text


def test_nothing_set_up(client: FlaskClient, provider: OidcProvider) -> None:
    sign_in(client, provider, sub="alice", organizations=["org-1"])
    text = text_of(client.get("/tokens"))
    assert "No API resources are set up: set LOGTO_RESOURCES in .env." in text
    assert "Organizations are not set up: set LOGTO_ORGANIZATION_SCOPES in .env." in text
    called = client.get("/call-api")
    assert called.status_code == 200
    assert called.headers["Cache-Control"] == "no-store"
    assert "No API is set up: set API_URL and LOGTO_RESOURCES in .env." in text_of(called)


def test_a_user_of_no_organization(settings: Settings, provider: OidcProvider) -> None:
    client = app_with(settings, ()).test_client()
    sign_in(client, provider, sub=f"erin-{uuid.uuid4().hex[:8]}")
    text = text_of(client.get("/tokens"))
    assert "No API resources are set up" in text
    assert "You belong to no organization." in text


@pytest.mark.parametrize("path", ["/tokens", "/call-api"])
def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.location == f"/sign-in?next={path}"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_nav_links_to_the_pages(client: FlaskClient, provider: OidcProvider) -> None:
    sign_in(client, provider, sub="alice")
    for path in ("/", "/profile"):
        page = client.get(path).text
        assert 'href="/tokens"' in page and 'href="/call-api"' in page


def test_the_api_is_called_with_a_token_for_the_first_resource(
    settings: Settings, provider: OidcProvider
) -> None:
    api, other_api = new_resources(provider)
    with ProtectedApi.run(endpoint=provider.endpoint, audience=api) as protected:
        client = app_with(settings, (api, other_api), api_url=protected.url).test_client()
        sign_in(client, provider, sub="alice")
        page = client.get("/call-api")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = text_of(page)
    assert "The API answered 200." in text
    assert json.loads(html.unescape(re.search(r"<pre>(.*)</pre>", page.text).group(1))) == {
        "sub": "alice",
        "scope": "read:items",
    }
    assert_no_token_shown(page)


def test_an_api_that_refuses_the_token_is_shown(settings: Settings, provider: OidcProvider) -> None:
    api, other_api = new_resources(provider)
    with ProtectedApi.run(endpoint=provider.endpoint, audience=other_api) as protected:
        client = app_with(settings, (api, other_api), api_url=protected.url).test_client()
        sign_in(client, provider, sub="alice")
        page = client.get("/call-api")
    assert page.status_code == 200
    assert "The API answered 401." in text_of(page)
    assert '{"error": "invalid_token"}' in text_of(page)


def test_an_api_that_does_not_answer_is_a_note(settings: Settings, provider: OidcProvider) -> None:
    (api,) = new_resources(provider, 1)
    api_url = f"http://127.0.0.1:{free_port()}/items"
    client = app_with(settings, (api,), api_url=api_url).test_client()
    sign_in(client, provider, sub="alice")
    page = client.get("/call-api")
    assert page.status_code == 200
    assert f"The API at {api_url} did not answer." in text_of(page)


@contextmanager
def api_answering(body: str) -> Iterator[str]:
    """An API that answers any GET with `body`, as HTML; its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            content = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_long_answer_is_cut_and_escaped(settings: Settings, provider: OidcProvider) -> None:
    (api,) = new_resources(provider, 1)
    with api_answering("<script>alert(1)</script>" + "x" * 3000) as api_url:
        client = app_with(settings, (api,), api_url=api_url).test_client()
        sign_in(client, provider, sub="alice")
        page = client.get("/call-api")
    assert "The API answered 200." in text_of(page)
    body = re.search(r"<pre>(.*)</pre>", page.text, re.DOTALL)
    assert body is not None
    assert "<script>" not in page.text
    assert html.unescape(body.group(1)) == ("<script>alert(1)</script>" + "x" * 3000)[:2000]


def test_the_cookie_stays_small_with_five_resources_and_three_organizations(
    settings: Settings, provider: OidcProvider
) -> None:
    resources = new_resources(provider, 5)
    client = app_with(settings, resources).test_client()
    sign_in(client, provider, sub="alice", organizations=["org-1", "org-2", "org-3"])
    page = client.get("/tokens")
    assert page.text.count("Audience") == 8
    assert len(stored_tokens(client)) >= 8
    cookie = client.get_cookie("session", domain="127.0.0.1")
    assert cookie is not None
    assert len(f"{cookie.key}={cookie.value}") < 200
    assert all(len(header) < 200 for header in page.headers.getlist("Set-Cookie"))


SHORT_LIFETIME = 62  # the SDK counts a token as expired 60 s early: good for 2 s here


@pytest.fixture(scope="module")
def short_lived_provider() -> Iterator[OidcProvider]:
    with OidcProvider.run(token_lifetime=SHORT_LIFETIME) as provider:
        yield provider


def test_an_expired_token_is_refreshed(
    settings: Settings, short_lived_provider: OidcProvider
) -> None:
    (api,) = new_resources(short_lived_provider, 1)
    client = app_with(settings, (api,), logto_endpoint=short_lived_provider.endpoint).test_client()
    sign_in(client, short_lived_provider, sub="alice", organizations=["org-1"])
    client.get("/tokens")
    first = stored_tokens(client)
    assert client.get("/tokens").status_code == 200
    assert stored_tokens(client) == first  # still good
    time.sleep(SHORT_LIFETIME - 60 + 1)

    page = client.get("/tokens")
    assert f"{api} Audience {api}" in text_of(page)
    renewed = stored_tokens(client)
    organization = "urn:logto:organization:org-1"
    assert renewed[api] != first[api] and renewed[organization] != first[organization]


def test_concurrent_refreshes_of_a_token_are_serialised(
    settings: Settings, short_lived_provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    (api,) = new_resources(short_lived_provider, 1)
    app = app_with(
        settings, (api,), organizations=False, logto_endpoint=short_lived_provider.endpoint
    )
    first_tab = app.test_client()
    sign_in(first_tab, short_lived_provider, sub="alice")
    second_tab = app.test_client()
    second_tab.set_cookie("session", session_id(first_tab) or "", domain="127.0.0.1")

    refreshes: list[str] = []
    refresh = OidcCore.fetchTokenByRefreshToken

    async def slow_refresh(self: OidcCore, **kwargs: str):
        refreshes.append(kwargs["resource"])
        await asyncio.sleep(1)  # keep this refresh going while the other tab asks
        return await refresh(self, **kwargs)

    monkeypatch.setattr(OidcCore, "fetchTokenByRefreshToken", slow_refresh)
    pages: dict[str, str] = {}

    def load(name: str, tab: FlaskClient) -> None:
        pages[name] = text_of(tab.get("/tokens"))

    tabs = [
        threading.Thread(target=load, args=("first", first_tab)),
        threading.Thread(target=load, args=("second", second_tab)),
    ]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()

    assert refreshes == [api]  # one refresh; the other tab took the token it stored
    assert all(f"{api} Audience {api}" in page for page in pages.values()), pages
