"""Tokens for API resources and organizations: settings, /tokens, /call-api and the helper
views get fresh tokens from, through the real sign-in flow at the test provider."""

import asyncio
import html
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from logto.OidcCore import OidcCore

from {{ cookiecutter.project_slug }}.resource_tokens import organization_resource
from {{ cookiecutter.project_slug }}.session_storage import SessionStorage

from .conftest import session_key, sign_in, stored_session
from .oidc_provider import OidcProvider
from .protected_api import ProtectedApi
from .servers import PROJECT_DIR, free_port
from .store import store_traffic
from .test_security import django_setting, manage_check, replace_stored_tokens

RESOURCE_SCOPES = ["read:items", "write:items"]
ORGANIZATION_SCOPES = ["read:org"]


@pytest.fixture
def alice() -> str:
    """A user of this test only: the provider keeps each user's claims."""
    return f"alice-{uuid.uuid4().hex[:8]}"


def new_resources(provider: OidcProvider, count: int) -> list[str]:
    """API resources of this test only, defined at the provider as an admin would."""
    run = uuid.uuid4().hex[:8]
    indicators = [f"https://api-{number}-{run}.example.com" for number in range(count)]
    for indicator in indicators:
        provider.add_resource(indicator, scopes=RESOURCE_SCOPES)
    return indicators


@pytest.fixture
def resources(logto: OidcProvider, settings: Any) -> Iterator[list[str]]:
    """Two API resources, set up at the provider and in the app's settings."""
    indicators = new_resources(logto, 2)
    settings.LOGTO_RESOURCES = indicators
    settings.LOGTO_SCOPES = ["email", "read:items"]
    yield indicators
    for indicator in indicators:
        logto.remove_resource(indicator)


@pytest.fixture
def organizations(settings: Any) -> None:
    settings.LOGTO_ORGANIZATION_SCOPES = ORGANIZATION_SCOPES


def tokens_page(client: Client) -> str:
    response = client.get("/tokens")
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    page = html.unescape(response.content.decode())
    assert "eyJ" not in page  # no token, ever
    return page


def stored_token_map(client: Client) -> dict[str, Any]:
    session = stored_session(session_key(client) or "")
    assert session is not None
    return json.loads(SessionStorage(session).get("accessTokenMap") or "{}")["x"]  # type: ignore[no-any-return]


# Settings


def test_lists_are_separated_by_spaces_or_commas_without_repeats() -> None:
    value = "https://a.example.com, https://b.example.com  https://a.example.com"
    assert django_setting("LOGTO_RESOURCES", LOGTO_RESOURCES=value) == str(
        ["https://a.example.com", "https://b.example.com"]
    )
    assert django_setting("LOGTO_SCOPES", LOGTO_SCOPES="email,phone") == "['email', 'phone']"
    assert django_setting("LOGTO_ORGANIZATION_SCOPES") == "[]"


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        (
            "LOGTO_RESOURCES",
            "https://api.example.com api.example.com",
            "LOGTO_RESOURCES: 'api.example.com' is not an absolute URI without a fragment",
        ),
        (
            "LOGTO_RESOURCES",
            "https://api.example.com/#items",
            "LOGTO_RESOURCES: 'https://api.example.com/#items' is not an absolute URI without "
            "a fragment",
        ),
        ("API_URL", "ftp://api.example", "API_URL: 'ftp://api.example' is not an http(s) URL"),
    ],
    ids=["not absolute", "a fragment", "not http"],
)
@pytest.mark.parametrize("app_env", ["development", "production"])
def test_a_bad_resource_or_api_url_refuses_to_start(
    name: str, value: str, complaint: str, app_env: str
) -> None:
    result = manage_check(APP_ENV=app_env, **{name: value})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [complaint]


def test_gunicorn_refuses_a_bad_resource_before_serving() -> None:
    address = f"127.0.0.1:{free_port()}"
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", address]
    env = {**os.environ, "LOGTO_RESOURCES": "not-a-uri"}
    result = subprocess.run(
        command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert "LOGTO_RESOURCES: 'not-a-uri' is not an absolute URI without a fragment" in result.stderr
    assert "Traceback" not in result.stderr


# /tokens


def test_the_tokens_page_shows_each_tokens_claims_never_a_token(
    client: Client, logto: OidcProvider, resources: list[str], organizations: None, alice: str
) -> None:
    sign_in(client, logto, sub=alice, organizations=["org-1", "org-2"])
    page = tokens_page(client)
    assert "<h1>Tokens</h1>" in page
    assert "API resources" in page and "Organizations" in page
    for indicator in resources:
        assert f"<h3>{indicator}</h3>" in page
        assert f"<tr><th>Audience</th><td>{indicator}</td></tr>" in page
    assert page.count("<tr><th>Scopes</th><td>read:items</td></tr>") == 2
    for organization in ("org-1", "org-2"):
        assert f"<h3>{organization}</h3>" in page
        audience = organization_resource(organization)
        assert f"<tr><th>Audience</th><td>{audience}</td></tr>" in page
    assert page.count("<tr><th>Scopes</th><td>read:org</td></tr>") == 2
    assert page.count("<tr><th>Expires</th><td>20") == 4
    # The tokens stay in the server-side session.
    stored = stored_token_map(client)
    assert {*resources, organization_resource("org-1"), organization_resource("org-2")} <= set(
        stored
    )


def test_a_second_visit_uses_the_tokens_kept_in_the_session(
    client: Client, logto: OidcProvider, resources: list[str], organizations: None, alice: str
) -> None:
    sign_in(client, logto, sub=alice, organizations=["org-1"])
    first = tokens_page(client)
    with store_traffic() as traffic:
        assert tokens_page(client) == first
    assert (traffic.reads, traffic.writes, traffic.touches) == (1, 0, 0)


def test_nothing_set_up_says_what_to_set(client: Client, logto: OidcProvider, alice: str) -> None:
    sign_in(client, logto, sub=alice)
    page = tokens_page(client)
    assert "No API resources are set up: set LOGTO_RESOURCES in .env." in page
    assert "Organizations are not set up: set LOGTO_ORGANIZATION_SCOPES in .env." in page


def test_a_user_of_no_organization_is_told_so(
    client: Client, logto: OidcProvider, organizations: None, alice: str
) -> None:
    sign_in(client, logto, sub=alice, organizations=[])
    assert "You belong to no organization." in tokens_page(client)


def test_a_resource_removed_at_logto_is_a_note_and_the_sign_in_goes_on(
    client: Client, logto: OidcProvider, resources: list[str], alice: str
) -> None:
    sign_in(client, logto, sub=alice)
    gone, kept = resources
    logto.remove_resource(gone)
    page = tokens_page(client)
    assert f"Logto gave no token for {gone}: invalid_target." in page
    assert f"<tr><th>Audience</th><td>{kept}</td></tr>" in page
    assert client.get("/profile").status_code == 200
    session = stored_session(session_key(client) or "")
    assert session is not None and SessionStorage(session).get("refreshToken") is not None


def test_an_organization_the_user_left_is_a_note(
    client: Client, logto: OidcProvider, organizations: None, alice: str
) -> None:
    sign_in(client, logto, sub=alice, organizations=["org-1", "org-2"])
    # Alice leaves org-2; her ID token in this session still names it.
    sign_in(Client(), logto, sub=alice, organizations=["org-1"])
    page = tokens_page(client)
    assert "Logto gave no token for organization org-2: invalid_grant." in page
    assert f"<tr><th>Audience</th><td>{organization_resource('org-1')}</td></tr>" in page
    assert client.get("/profile").status_code == 200


def test_logto_down_is_a_note(client: Client, settings: Any, alice: str) -> None:
    indicator = f"https://api-{alice}.example.com"
    settings.LOGTO_APP_ID, settings.LOGTO_APP_SECRET = "test-app", "test-secret"
    settings.LOGTO_ORGANIZATION_SCOPES = ORGANIZATION_SCOPES
    with OidcProvider.run() as provider:
        provider.add_resource(indicator, scopes=RESOURCE_SCOPES)
        settings.LOGTO_ENDPOINT = provider.endpoint
        settings.LOGTO_RESOURCES = [indicator]
        sign_in(client, provider, sub=alice, organizations=["org-1"])
    # The provider's process has ended: its token endpoint no longer answers.
    page = tokens_page(client)
    assert f"Logto gave no token for {indicator}: Logto is unreachable." in page
    assert "Logto gave no token for organization org-1: Logto is unreachable." in page
    assert client.get("/profile").status_code == 200


def test_an_expired_token_is_refreshed_once_for_requests_at_once(
    client: Client,
    logto: OidcProvider,
    resources: list[str],
    alice: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign_in(client, logto, sub=alice)
    tokens_page(client)
    indicator = resources[0]
    token_map = stored_token_map(client)
    first = token_map[indicator]["token"]
    token_map[indicator]["expiresAt"] = 0  # as the SDK keeps it: expired a while ago
    replace_stored_tokens(session_key(client) or "", accessTokenMap=json.dumps({"x": token_map}))

    refreshes: list[str] = []
    refresh = OidcCore.fetchTokenByRefreshToken

    async def counted_refresh(self: OidcCore, **kwargs: Any) -> Any:
        refreshes.append(kwargs["resource"])
        return await refresh(self, **kwargs)

    monkeypatch.setattr(OidcCore, "fetchTokenByRefreshToken", counted_refresh)
    browser = AsyncClient()
    browser.cookies = client.cookies

    async def three_pages_at_once() -> list[Any]:
        return await asyncio.gather(*(browser.get("/tokens") for _ in range(3)))

    responses = async_to_sync(three_pages_at_once)()
    assert [response.status_code for response in responses] == [200, 200, 200]
    assert refreshes == [indicator]  # one refresh, the others found its token
    assert stored_token_map(client)[indicator]["token"] != first
    assert f"<tr><th>Audience</th><td>{indicator}</td></tr>" in tokens_page(client)


def test_signed_in_pages_link_to_tokens_api_and_devices(
    client: Client, logto: OidcProvider, alice: str
) -> None:
    sign_in(client, logto, sub=alice)
    for page in ("/", "/profile", "/tokens", "/call-api", "/sessions"):
        content = client.get(page).content.decode()
        for link in ("/tokens", "/call-api", "/sessions"):
            assert f'href="{link}"' in content, (page, link)


@pytest.mark.parametrize("page", ["/tokens", "/call-api"])
def test_anonymous_visitors_are_sent_to_sign_in(
    client: Client, logto: OidcProvider, page: str
) -> None:
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == "/sign-in"


def test_the_cookie_stays_small_with_five_resources_and_three_organizations(
    client: Client, logto: OidcProvider, settings: Any, organizations: None, alice: str
) -> None:
    indicators = new_resources(logto, 5)
    settings.LOGTO_RESOURCES = indicators
    settings.LOGTO_SCOPES = ["email", "read:items", "write:items"]
    sign_in(client, logto, sub=alice, organizations=["org-1", "org-2", "org-3"])
    page = tokens_page(client)
    assert page.count("<tr><th>Audience</th>") == 8
    assert len(stored_token_map(client)) == 9  # and the userinfo token
    cookie_header = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    assert len(cookie_header) < 200, cookie_header
    for indicator in indicators:
        logto.remove_resource(indicator)


# /call-api


def call_api_page(client: Client) -> str:
    response = client.get("/call-api")
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    page = html.unescape(response.content.decode())
    assert "eyJ" not in page
    return page


def test_the_api_is_called_with_a_token_for_the_first_resource(
    client: Client, logto: OidcProvider, resources: list[str], settings: Any, alice: str
) -> None:
    sign_in(client, logto, sub=alice)
    with ProtectedApi.run(endpoint=logto.endpoint, audience=resources[0]) as api:
        settings.API_URL = api.url
        page = call_api_page(client)
    assert "The API answered 200." in page
    answer = json.dumps({"sub": alice, "scope": "read:items"})
    assert f"<pre>{answer}</pre>" in page


def test_an_api_for_another_audience_answers_401(
    client: Client, logto: OidcProvider, resources: list[str], settings: Any, alice: str
) -> None:
    sign_in(client, logto, sub=alice)
    with ProtectedApi.run(endpoint=logto.endpoint, audience=resources[1]) as api:
        settings.API_URL = api.url
        page = call_api_page(client)
    assert "The API answered 401." in page
    assert '{"error": "invalid_token"}' in page


def test_an_api_that_does_not_answer_is_a_note(
    client: Client, logto: OidcProvider, resources: list[str], settings: Any, alice: str
) -> None:
    sign_in(client, logto, sub=alice)
    settings.API_URL = f"http://127.0.0.1:{free_port()}/items"
    assert f"The API at {settings.API_URL} did not answer." in call_api_page(client)


def test_no_api_set_up_says_what_to_set(
    client: Client, logto: OidcProvider, resources: list[str], settings: Any, alice: str
) -> None:
    sign_in(client, logto, sub=alice)
    note = "No API is set up: set API_URL and LOGTO_RESOURCES in .env."
    assert note in call_api_page(client)  # API_URL unset
    settings.API_URL, settings.LOGTO_RESOURCES = "http://127.0.0.1:9/", []
    assert note in call_api_page(client)


def test_a_refused_token_is_a_note(
    client: Client, logto: OidcProvider, resources: list[str], settings: Any, alice: str
) -> None:
    sign_in(client, logto, sub=alice)
    logto.remove_resource(resources[0])
    settings.API_URL = f"http://127.0.0.1:{free_port()}/"
    page = call_api_page(client)
    assert f"Logto gave no token for {resources[0]}: invalid_target." in page
