"""Provider traffic: a page asks Logto nothing unless a token must be refreshed or the
page shows userinfo; Logto's discovery document and keys are fetched once per process."""

from typing import Any

import aiohttp
import pytest
from django.test import Client
from jwt import PyJWKClient

from {{ cookiecutter.project_slug }} import logto_client

from .conftest import sign_in
from .oidc_provider import OidcProvider


@pytest.fixture
def provider_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The requests the app sends to Logto from now on (the SDK's and the JWKS client's)."""
    requests: list[str] = []
    send = aiohttp.ClientSession._request
    fetch_keys = PyJWKClient.fetch_data

    async def counted_send(session: aiohttp.ClientSession, method: str, url: Any, **kw: Any) -> Any:
        requests.append(f"{method} {url}")
        return await send(session, method, url, **kw)

    def counted_fetch_keys(client: PyJWKClient) -> Any:
        requests.append(f"GET {client.uri}")
        return fetch_keys(client)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", counted_send)
    monkeypatch.setattr(PyJWKClient, "fetch_data", counted_fetch_keys)
    return requests


def test_pages_ask_logto_only_for_userinfo(
    client: Client, logto: OidcProvider, provider_requests: list[str]
) -> None:
    sign_in(client, logto, name="Alice")
    provider_requests.clear()
    assert "Alice" in client.get("/").content.decode()
    assert provider_requests == []
    assert "Alice" in client.get("/profile").content.decode()
    assert [request.split("/")[-1] for request in provider_requests] == ["userinfo"]


def test_discovery_and_keys_are_fetched_once_per_process(
    logto: OidcProvider, provider_requests: list[str]
) -> None:
    logto_client._oidc_cores.clear()
    for user in ("alice", "bob", "carol"):
        sign_in(Client(), logto, sub=user)
    fetched = [request.split("/")[-1] for request in provider_requests]
    assert fetched.count("openid-configuration") == 1
    assert fetched.count("jwks") == 1
