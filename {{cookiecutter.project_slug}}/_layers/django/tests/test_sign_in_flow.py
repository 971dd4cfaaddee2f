"""The whole authorization-code flow, over HTTP, against a real OpenID Connect provider."""

import socket
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from logto.OidcCore import OidcCore

from {{ cookiecutter.project_slug }} import auth, logto_client

from .conftest import csrf_token, session_key, sign_in, stored_session
from .oidc_provider import OidcProvider
from .servers import free_port
from .store import stored_session_count


def test_sign_in_profile_sign_out(client: Client, logto: OidcProvider) -> None:
    assert sign_in(client, logto, sub="alice", name="Alice") == "/profile"

    page = client.get("/profile").content.decode()
    assert "alice" in page  # the ID token's `sub`
    assert "Alice" in page  # the userinfo's and ID token's `name`
    assert "did not answer" not in page
    assert "Alice" in client.get("/").content.decode()

    key = session_key(client)
    assert key and stored_session(key) is not None
    response = client.post("/sign-out", {"csrfmiddlewaretoken": csrf_token(client)})
    assert response.status_code in {302, 303}
    assert response["Location"].startswith(f"{logto.endpoint}/oidc/")
    assert logto.end_session(response["Location"]) == f"{settings.BASE_URL}/"

    assert "You are not signed in." in client.get("/").content.decode()
    assert stored_session(key) is None
    assert session_key(client) is None


def test_sign_in_is_503_naming_missing_settings(client: Client, settings: Any) -> None:
    settings.LOGTO_ENDPOINT = "http://127.0.0.1:1"
    settings.LOGTO_APP_ID = ""
    settings.LOGTO_APP_SECRET = "secret"
    response = client.get("/sign-in")
    assert response.status_code == 503
    assert "LOGTO_APP_ID" in response.content.decode()
    assert "LOGTO_ENDPOINT" not in response.content.decode()
    assert client.get("/").status_code == 200


def test_sign_in_is_502_when_logto_is_unreachable(
    client: Client, logto: OidcProvider, settings: Any
) -> None:
    settings.LOGTO_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    sessions_before = stored_session_count()
    response = client.get("/sign-in")
    assert response.status_code == 502
    assert "Logto is unreachable" in response.content.decode()
    assert stored_session_count() == sessions_before


def test_sign_in_is_502_when_logto_does_not_answer(
    client: Client, logto: OidcProvider, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "LOGTO_DEADLINE", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # takes connections, never answers
        settings.LOGTO_ENDPOINT = f"http://127.0.0.1:{silent.getsockname()[1]}"
        response = client.get("/sign-in")
    assert response.status_code == 502
    assert "Logto is unreachable" in response.content.decode()


def test_discovery_is_fetched_once_per_process(
    client: Client, logto: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[str] = []
    fetch = OidcCore.getProviderMetadata

    async def counted_fetch(url: str) -> Any:
        fetched.append(url)
        return await fetch(url)

    logto_client._oidc_cores.clear()
    monkeypatch.setattr(OidcCore, "getProviderMetadata", counted_fetch)
    sign_in(client, logto)
    sign_in(Client(), logto, sub="bob")
    assert fetched == [f"{logto.endpoint}/oidc/.well-known/openid-configuration"]
