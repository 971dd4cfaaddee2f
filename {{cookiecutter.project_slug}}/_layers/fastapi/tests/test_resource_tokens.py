"""Tokens for API resources and organizations: settings, the tokens page, the `Tokens`
dependency's refreshes, and an API called with one of them.

The provider issues resource and organization tokens as Logto does (RFC 8707 `resource`,
`organization_id` on the refresh grant); the API checks them against its keys.
"""

import asyncio
import html
import json
import os
import re
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from logto.models.oidc import UserInfoScope
from logto.models.response import TokenResponse
from logto.OidcCore import OidcCore
from pydantic import ValidationError

from {{ cookiecutter.project_slug }}.main import create_app
from {{ cookiecutter.project_slug }}.session_middleware import deserialize
from {{ cookiecutter.project_slug }}.session_storage import SessionStorage

from .conftest import BASE_URL, make_settings, signed_in_client
from .helpers import closed_port
from .oidc_provider import OidcProvider
from .protected_api import ProtectedApi

CHECK = [sys.executable, "-m", "{{ cookiecutter.project_slug }}.check", "--settings-only"]
EXPIRES = re.compile(r"<th>Expires</th><td>\d{4}-\d\d-\d\d \d\d:\d\d UTC</td>")


def new_resource(provider: OidcProvider, *scopes: str) -> str:
    """An API resource of this test's own at the provider (which all tests share)."""
    indicator = f"https://api-{uuid.uuid4().hex[:8]}.example.com"
    provider.add_resource(indicator, scopes=list(scopes))
    return indicator


def new_user() -> str:
    """A user of this test's own: the provider keeps each user's claims for the run."""
    return f"user-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def refreshes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The resource (or organization) of each refresh grant sent to the provider, which
    still answers them."""
    sent: list[str] = []
    refresh = OidcCore.fetchTokenByRefreshToken

    async def counting_refresh(self: OidcCore, **arguments: Any) -> TokenResponse:
        sent.append(arguments.get("resource", ""))
        return await refresh(self, **arguments)

    monkeypatch.setattr(OidcCore, "fetchTokenByRefreshToken", counting_refresh)
    return sent


def stored_session(client: TestClient) -> dict[str, Any]:
    app: FastAPI = client.app  # type: ignore[assignment]
    assert client.portal is not None
    stored = client.portal.call(app.state.session_store.load, client.cookies["session"])
    assert stored is not None
    return deserialize(stored.data)


# Settings


def test_list_settings_are_split_on_spaces_and_commas_without_repeats(
    store_settings: dict[str, Any],
) -> None:
    settings = make_settings(
        store_settings,
        logto_scopes="email, phone email",
        logto_resources="https://a.example.com,https://b.example.com https://a.example.com",
        logto_organization_scopes="read:org",
    )
    assert settings.logto_scopes == ["email", "phone"]
    assert settings.logto_resources == ["https://a.example.com", "https://b.example.com"]
    organizations = UserInfoScope.organizations  # as the SDK knows it
    assert settings.sign_in_scopes == ["email", "phone", organizations, "read:org"]
    assert settings.organizations_enabled
    unset = make_settings(store_settings)
    assert (unset.logto_resources, unset.organizations_enabled) == ([], False)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        (
            "LOGTO_RESOURCES",
            "https://api.example.com api.example.com",
            "LOGTO_RESOURCES: 'api.example.com' is not an absolute URI without a fragment",
        ),
        (
            "LOGTO_RESOURCES",
            "https://api.example.com/#v1",
            "LOGTO_RESOURCES: 'https://api.example.com/#v1' is not an absolute URI without a "
            "fragment",
        ),
        ("API_URL", "ftp://x.example.com", "API_URL: 'ftp://x.example.com' is not an http(s) URL"),
    ],
)
def test_a_bad_setting_is_refused_in_one_line(
    store_settings: dict[str, Any], name: str, value: str, problem: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        make_settings(store_settings, **{name.lower(): value})
    for app_env in ("development", "production"):
        env = os.environ | {"APP_ENV": app_env, name: value}
        result = subprocess.run(CHECK, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert f"FAIL  settings: {problem}\n" in result.stdout
        assert "Traceback" not in result.stderr


def test_sign_in_asks_for_the_resources_and_organizations(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    api = new_resource(provider, "read:items")
    settings = make_settings(
        store_settings,
        logto_endpoint=provider.endpoint,
        logto_scopes="read:items",
        logto_resources=api,
        logto_organization_scopes="read:org",
    )
    with TestClient(create_app(settings), base_url=BASE_URL, follow_redirects=False) as client:
        location = httpx2.URL(client.get("/sign-in").headers["location"])
    scopes = location.params["scope"].split()
    assert {"read:items", "urn:logto:scope:organizations", "read:org"} <= set(scopes)
    resources = set(location.params.get_list("resource"))
    assert resources == {api, "urn:logto:resource:organizations"}


# The tokens page


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    for path in ("/tokens", "/call-api"):
        page = client.get(path)
        assert page.status_code == 302
        assert page.headers["location"] == "/sign-in"
        assert "no-store" in page.headers["cache-control"]


def test_without_resources_or_organizations_the_page_says_how_to_set_them_up(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    with signed_in_client(provider, store_settings) as client:
        page = client.get("/tokens")
        assert page.status_code == 200
        assert "<h1>Tokens</h1>" in page.text
        assert "No API resources are set up: set LOGTO_RESOURCES in .env." in page.text
        assert "Organizations are not set up: set LOGTO_ORGANIZATION_SCOPES in .env." in page.text
        home = client.get("/").text
        for path in ("/tokens", "/call-api", "/sessions"):
            assert f'href="{path}"' in home


def test_tokens_page_shows_each_resources_and_organizations_token_claims(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    items, orders = new_resource(provider, "read:items"), new_resource(provider, "read:orders")
    with signed_in_client(
        provider,
        store_settings,
        sub=new_user(),
        claims={"organizations": ["org-1", "org-2"]},
        logto_scopes="read:items read:orders",
        logto_resources=f"{items} {orders}",
        logto_organization_scopes="read:org",
    ) as client:
        page = client.get("/tokens")
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    text = page.text
    assert "<h2>API resources</h2>" in text and "<h2>Organizations</h2>" in text
    for audience, scopes in [
        (items, "read:items"),
        (orders, "read:orders"),
        ("urn:logto:organization:org-1", "read:org"),
        ("urn:logto:organization:org-2", "read:org"),
    ]:
        audience_row = f"<tr><th>Audience</th><td>{audience}</td></tr>"
        scopes_row = f"<tr><th>Scopes</th><td>{scopes}</td></tr>"
        assert re.search(f"{re.escape(audience_row)}\\s*{re.escape(scopes_row)}", text), audience
    assert "<h3>org-1</h3>" in text and "<h3>org-2</h3>" in text
    assert len(EXPIRES.findall(text)) == 4
    assert "Logto gave no token" not in text
    assert "eyJ" not in text


def test_a_user_of_no_organization_is_told_so(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    with signed_in_client(
        provider, store_settings, sub=new_user(), logto_organization_scopes="read:org"
    ) as client:
        page = client.get("/tokens")
    assert page.status_code == 200
    assert "You belong to no organization." in page.text


def test_refused_grants_are_notes_and_leave_the_sign_in(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    kept, removed = new_resource(provider, "read:items"), new_resource(provider, "read:items")
    user = new_user()
    with signed_in_client(
        provider,
        store_settings,
        sub=user,
        claims={"organizations": ["org-1", "org-2"]},
        logto_resources=f"{kept} {removed}",
        logto_organization_scopes="read:org",
    ) as client:
        provider.remove_resource(removed)  # an admin deleted it after this sign-in
        # The user has left org-2 since the ID token that names it was issued.
        response = provider.http.put(
            f"{provider.endpoint}/oidc/users/{user}", json={"organizations": ["org-1"]}
        )
        response.raise_for_status()
        page = client.get("/tokens")
        assert page.status_code == 200
        assert f"Logto gave no token for {removed}: invalid_target." in page.text
        assert "Logto gave no token for organization org-2: invalid_grant." in page.text
        assert f"<tr><th>Audience</th><td>{kept}</td></tr>" in page.text
        assert "<tr><th>Audience</th><td>urn:logto:organization:org-1</td></tr>" in page.text
        assert client.get("/profile").status_code == 200  # still signed in


def test_unreachable_logto_is_a_note(store_settings: dict[str, Any]) -> None:
    with ExitStack() as logto:
        provider = logto.enter_context(OidcProvider.run())  # a Logto of this test's own
        api = new_resource(provider, "read:items")
        down = f"http://127.0.0.1:{closed_port()}/"
        settings = {"logto_resources": api, "api_url": down}
        with signed_in_client(provider, store_settings, **settings) as client:
            logto.close()  # Logto stops answering
            note = f"Logto gave no token for {api}: Logto is unreachable."
            for path in ("/tokens", "/call-api"):
                page = client.get(path)
                assert page.status_code == 200
                assert note in page.text


# The `Tokens` dependency's refreshes


def add_expire_token_route(app: FastAPI) -> None:
    """A test route that ages the session's cached token for a resource past its expiry."""

    @app.post("/test/expire-token")
    async def expire_token(request: Request, resource: str) -> None:
        storage = SessionStorage(request.session)
        token_map = json.loads(storage.get("accessTokenMap") or "{}")
        token_map["x"][resource]["expiresAt"] = int(time.time()) - 1
        storage.set("accessTokenMap", json.dumps(token_map))


def test_an_expired_resource_token_is_refreshed_once_under_the_lock(
    provider: OidcProvider,
    store_settings: dict[str, Any],
    refreshes: list[str],
) -> None:
    api = new_resource(provider, "read:items")
    with signed_in_client(provider, store_settings, logto_resources=api) as client:
        app: FastAPI = client.app  # type: ignore[assignment]
        add_expire_token_route(app)
        assert client.get("/tokens").status_code == 200
        assert refreshes == [api]
        first = stored_session(client)["logto:accessTokenMap"]
        assert client.get("/tokens").status_code == 200
        assert refreshes == [api]  # kept in the session: served from there

        assert client.post("/test/expire-token", params={"resource": api}).status_code == 200

        async def three_pages_at_once() -> list[httpx2.Response]:
            transport = httpx2.ASGITransport(app=app)
            cookies = {"session": client.cookies["session"]}
            async with httpx2.AsyncClient(
                transport=transport, base_url=BASE_URL, cookies=cookies
            ) as browser:
                return await asyncio.gather(*(browser.get("/tokens") for _ in range(3)))

        assert client.portal is not None
        pages = client.portal.call(three_pages_at_once)
        assert all(f"<td>{api}</td>" in page.text for page in pages)
        assert refreshes == [api, api]  # one refresh for the three requests
        assert stored_session(client)["logto:accessTokenMap"] != first


# The API called with a token


def test_call_api_sends_a_token_the_api_accepts(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    api, user = new_resource(provider, "read:items"), new_user()
    with (
        ProtectedApi.run(endpoint=provider.endpoint, audience=api) as protected,
        signed_in_client(
            provider,
            store_settings,
            sub=user,
            logto_scopes="read:items",
            logto_resources=api,
            api_url=protected.url,
        ) as client,
    ):
        page = client.get("/call-api")
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    assert "The API answered 200." in page.text
    body = re.search(r"<pre>(.*)</pre>", page.text, re.DOTALL)
    assert body is not None
    assert f'"sub": "{user}"' in html.unescape(body.group(1))
    assert "eyJ" not in page.text


def test_call_api_shows_what_went_wrong(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    api, other = new_resource(provider), new_resource(provider)
    with signed_in_client(provider, store_settings, logto_resources=api) as client:
        page = client.get("/call-api")
        assert page.status_code == 200
        assert "No API is set up: set API_URL and LOGTO_RESOURCES in .env." in page.text
    down = f"http://127.0.0.1:{closed_port()}/"
    with signed_in_client(provider, store_settings, logto_resources=api, api_url=down) as client:
        page = client.get("/call-api")
        assert page.status_code == 200
        assert f"The API at {down} did not answer." in page.text
    with (
        ProtectedApi.run(endpoint=provider.endpoint, audience=other) as api_of_another_audience,
        signed_in_client(
            provider, store_settings, logto_resources=api, api_url=api_of_another_audience.url
        ) as client,
    ):
        page = client.get("/call-api")
        assert page.status_code == 200
        assert "The API answered 401." in page.text
        assert "invalid_token" in page.text
    with signed_in_client(provider, store_settings, logto_resources=api, api_url=down) as client:
        provider.remove_resource(api)
        page = client.get("/call-api")
        assert page.status_code == 200
        assert f"Logto gave no token for {api}: invalid_target." in page.text


# The cookie


def test_the_cookie_stays_small_with_five_resources_and_three_organizations(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    resources = [new_resource(provider, f"scope-{n}") for n in range(5)]
    with signed_in_client(
        provider,
        store_settings,
        sub=new_user(),
        claims={"organizations": ["org-1", "org-2", "org-3"]},
        logto_scopes=" ".join(f"scope-{n}" for n in range(5)),
        logto_resources=" ".join(resources),
        logto_organization_scopes="read:org",
    ) as client:
        page = client.get("/tokens")
        assert page.status_code == 200
        assert "Logto gave no token" not in page.text
        token_map = json.loads(stored_session(client)["logto:accessTokenMap"])["x"]
        organizations = [f"urn:logto:organization:org-{n}" for n in (1, 2, 3)]
        assert set(token_map) >= {*resources, *organizations}
        for response in (page, client.get("/"), client.get("/profile")):
            for cookie in response.headers.get_list("set-cookie"):
                assert len(cookie) < 200
        cookie_header = f"session={client.cookies['session']}"
        assert len(cookie_header) < 200
