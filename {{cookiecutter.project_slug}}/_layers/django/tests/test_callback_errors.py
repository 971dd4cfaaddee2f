"""Forged or failed callbacks get a 4xx/502 page and store nothing."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from {{ cookiecutter.project_slug }}.session_storage import SessionStorage

from .conftest import session_key, stored_session
from .oidc_provider import OidcProvider
from .servers import free_port
from .store import stored_session_count


def start_sign_in(client: Client) -> str:
    """Start a sign-in; returns the `state` the app sent to the provider."""
    response = client.get("/sign-in")
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def assert_no_tokens(client: Client) -> None:
    key = session_key(client)
    assert key is not None
    session = stored_session(key)
    assert session is not None
    assert SessionStorage(session).get("idToken") is None
    assert SessionStorage(session).get("accessTokenMap") is None
    assert "You are not signed in." in client.get("/").content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "code=forged&state=wrong",
        "code=forged",
        "error=access_denied&error_description=denied&state={state}",
    ],
    ids=["wrong state", "missing state", "provider error"],
)
def test_bad_callback_is_400(client: Client, logto: OidcProvider, query: str) -> None:
    state = start_sign_in(client)
    response = client.get("/callback?" + query.format(state=state))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Sign-in failed" in page
    assert "Traceback" not in page
    if "error=" in query:
        assert "access_denied" in page
    assert_no_tokens(client)


def test_callback_without_sign_in_session_is_400(client: Client, logto: OidcProvider) -> None:
    sessions_before = stored_session_count()
    response = client.get("/callback?code=forged&state=forged")
    assert response.status_code == 400
    assert not response.cookies
    assert stored_session_count() == sessions_before


def test_replayed_code_is_400(client: Client, logto: OidcProvider) -> None:
    callback_url = logto.authorize(client.get("/sign-in")["Location"])
    assert client.get(callback_url).status_code == 302
    # The same callback again: its sign-in is over.
    assert client.get(callback_url).status_code == 400
    # The same code in a new sign-in of another browser: Logto refuses it.
    attacker = Client()
    state = start_sign_in(attacker)
    code = parse_qs(urlsplit(callback_url).query)["code"][0]
    response = attacker.get(f"/callback?code={code}&state={state}")
    assert response.status_code == 400
    assert_no_tokens(attacker)


def test_callback_is_502_when_logto_is_unreachable(
    client: Client, logto: OidcProvider, settings: Any
) -> None:
    callback_url = logto.authorize(client.get("/sign-in")["Location"])
    settings.LOGTO_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    response = client.get(callback_url)
    assert response.status_code == 502
    assert "Logto is unreachable" in response.content.decode()
    assert_no_tokens(client)
