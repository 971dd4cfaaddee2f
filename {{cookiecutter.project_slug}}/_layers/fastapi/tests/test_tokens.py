"""An expired ID token signs nobody in; the refresh token renews it, once per session at a time."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx2
import jwt
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from logto import LogtoConfig
from logto.models.response import TokenResponse
from logto.OidcCore import OidcCore

from {{ cookiecutter.project_slug }}.logto_client import AppLogtoClient
from {{ cookiecutter.project_slug }}.session_storage import SessionStorage

from .conftest import BASE_URL
from .flow import sign_in
from .oidc_provider import OidcProvider

ExpireIdToken = Callable[..., None]


@pytest.fixture
def expire_id_token(app: FastAPI, client: TestClient) -> ExpireIdToken:
    """Replace the session's ID token by the same claims, expired a minute ago."""

    @app.post("/test/expire-id-token")
    async def expire(request: Request, drop_refresh_token: bool = False) -> None:
        storage = SessionStorage(request.session)
        claims = jwt.decode(storage.get("idToken") or "", options={"verify_signature": False})
        expired = {**claims, "exp": int(time.time()) - 60}
        storage.set("idToken", jwt.encode(expired, "not Logto's key, but long enough", "HS256"))
        if drop_refresh_token:
            storage.delete("refreshToken")

    def expire_in(browser: TestClient, drop_refresh_token: bool = False) -> None:
        params = {"drop_refresh_token": drop_refresh_token}
        assert browser.post("/test/expire-id-token", params=params).status_code == 200

    return expire_in


@pytest.fixture
def refreshes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The refresh grants sent to the provider (which still answers them)."""
    sent: list[str] = []
    refresh = OidcCore.fetchTokenByRefreshToken

    async def counting_refresh(self: OidcCore, **arguments: Any) -> TokenResponse:
        sent.append(arguments["refreshToken"])
        return await refresh(self, **arguments)

    monkeypatch.setattr(OidcCore, "fetchTokenByRefreshToken", counting_refresh)
    return sent


def is_signed_in(client: TestClient) -> bool:
    return "You are signed in" in client.get("/").text


def test_expired_id_token_without_refresh_token_signs_nobody_in(
    client: TestClient, provider: OidcProvider, expire_id_token: ExpireIdToken
) -> None:
    sign_in(client, provider)
    expire_id_token(client, drop_refresh_token=True)
    assert not is_signed_in(client)
    assert client.get("/profile").headers["location"] == "/sign-in"


def test_expired_id_token_is_renewed_with_the_refresh_token(
    client: TestClient,
    provider: OidcProvider,
    expire_id_token: ExpireIdToken,
    refreshes: list[str],
) -> None:
    sign_in(client, provider, name="Alice")
    expire_id_token(client)
    assert is_signed_in(client)
    assert len(refreshes) == 1
    assert client.get("/profile").status_code == 200
    assert len(refreshes) == 1  # the new ID token was kept


def test_refused_refresh_signs_nobody_in(
    client: TestClient, provider: OidcProvider, expire_id_token: ExpireIdToken
) -> None:
    sign_in(client, provider, sub="revoked")
    provider.revoke_tokens("revoked")
    expire_id_token(client)
    assert not is_signed_in(client)
    assert client.get("/profile").headers["location"] == "/sign-in"


def test_concurrent_requests_of_one_session_refresh_once(
    app: FastAPI,
    client: TestClient,
    provider: OidcProvider,
    expire_id_token: ExpireIdToken,
    refreshes: list[str],
) -> None:
    sign_in(client, provider, name="Alice")
    expire_id_token(client)

    async def three_requests_at_once() -> list[httpx2.Response]:
        transport = httpx2.ASGITransport(app=app)
        cookies = {"session": client.cookies["session"]}
        async with httpx2.AsyncClient(
            transport=transport, base_url=BASE_URL, cookies=cookies
        ) as browser:
            return await asyncio.gather(*(browser.get("/") for _ in range(3)))

    # On the event loop of `client`, which has started the app and its store.
    assert client.portal is not None
    responses = client.portal.call(three_requests_at_once)
    assert all("You are signed in" in response.text for response in responses)
    assert len(refreshes) == 1


def test_the_sdk_reads_its_cached_access_token_without_refreshing_it() -> None:
    """`fetch_userinfo` relies on the SDK's private `_getAccessToken`: no public call does this."""
    config = LogtoConfig(endpoint="http://127.0.0.1:9", appId="test-app", appSecret="secret")
    session: dict[str, Any] = {}
    logto = AppLogtoClient(config, storage=SessionStorage(session))
    SessionStorage(session).set("refreshToken", "a refresh token it must not use here")
    logto._setAccessToken("", "cached", expiresIn=3600)
    assert logto._getAccessToken("") == "cached"
    logto._setAccessToken("", "expired", expiresIn=0)
    assert logto._getAccessToken("") is None
