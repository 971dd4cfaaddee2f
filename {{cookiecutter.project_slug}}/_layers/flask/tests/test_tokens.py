"""An expired ID token is not a sign-in; a refresh token renews it, one refresh at a time."""

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from logto.OidcCore import OidcCore

from {{ cookiecutter.project_slug }}.session_storage import SessionStorage
from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import make_app, session_id, sign_in
from .oidc_provider import OidcProvider
from .store import store_traffic

TOKEN_LIFETIME = 3  # seconds: a refreshed token stays valid while a test looks at it


@pytest.fixture(scope="module")
def short_lived_provider() -> Iterator[OidcProvider]:
    with OidcProvider.run(token_lifetime=TOKEN_LIFETIME) as provider:
        yield provider


@pytest.fixture
def short_lived_app(settings: Settings, short_lived_provider: OidcProvider) -> Flask:
    return make_app(settings, logto_endpoint=short_lived_provider.endpoint)


def stored_token(client: FlaskClient, key: str) -> str | None:
    with client.session_transaction() as session:
        return SessionStorage(session).get(key)  # type: ignore[arg-type]


def sign_in_and_let_the_id_token_expire(client: FlaskClient, provider: OidcProvider) -> str:
    sign_in(client, provider, sub="erin", name="Erin")
    id_token = stored_token(client, "idToken")
    assert id_token is not None
    time.sleep(TOKEN_LIFETIME + 1)  # past the ID token's `exp`
    return id_token


def test_expired_id_token_is_refreshed(
    short_lived_app: Flask, short_lived_provider: OidcProvider
) -> None:
    client = short_lived_app.test_client()
    expired = sign_in_and_let_the_id_token_expire(client, short_lived_provider)
    assert "signed in as <strong>Erin</strong>" in client.get("/").text
    assert stored_token(client, "idToken") not in {None, expired}


def test_a_refresh_saves_the_session_once_and_deletes_nothing(
    short_lived_app: Flask, short_lived_provider: OidcProvider
) -> None:
    client = short_lived_app.test_client()
    sign_in_and_let_the_id_token_expire(client, short_lived_provider)
    with store_traffic(short_lived_app) as traffic:
        assert "signed in as <strong>Erin</strong>" in client.get("/").text
    # Read, read again under the refresh lock, save: the session and its index stay put.
    assert len(traffic.reads) == 2, traffic
    assert traffic.writes, traffic
    assert not [write for write in traffic.writes if "del" in write.lower()], traffic
    with store_traffic(short_lived_app) as traffic:
        client.get("/")
    assert traffic.writes == []


def test_expired_id_token_without_refresh_token_is_not_a_sign_in(
    short_lived_app: Flask, short_lived_provider: OidcProvider
) -> None:
    client = short_lived_app.test_client()
    sign_in(client, short_lived_provider, sub="erin")
    with client.session_transaction() as session:
        SessionStorage(session).delete("refreshToken")
    time.sleep(TOKEN_LIFETIME + 1)
    assert "not signed in" in client.get("/").text
    assert client.get("/profile").status_code == 302


def test_revoked_refresh_token_ends_the_sign_in(
    short_lived_app: Flask, short_lived_provider: OidcProvider
) -> None:
    client = short_lived_app.test_client()
    sign_in_and_let_the_id_token_expire(client, short_lived_provider)
    short_lived_provider.revoke_tokens("erin")
    assert "not signed in" in client.get("/").text
    assert stored_token(client, "refreshToken") is None
    assert stored_token(client, "idToken") is None


def test_concurrent_refreshes_of_one_session_are_serialised(
    short_lived_app: Flask, short_lived_provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_tab = short_lived_app.test_client()
    sign_in_and_let_the_id_token_expire(first_tab, short_lived_provider)
    second_tab = short_lived_app.test_client()
    second_tab.set_cookie("session", session_id(first_tab) or "", domain="127.0.0.1")

    refreshes: list[str] = []
    refresh = OidcCore.fetchTokenByRefreshToken

    async def slow_refresh(self: OidcCore, **kwargs: str):
        refreshes.append(kwargs["refreshToken"])
        await asyncio.sleep(1)  # keep this refresh going while the other tab asks
        return await refresh(self, **kwargs)

    monkeypatch.setattr(OidcCore, "fetchTokenByRefreshToken", slow_refresh)
    pages: dict[str, str] = {}

    def load(name: str, tab: FlaskClient) -> None:
        pages[name] = tab.get("/").text

    tabs = [
        threading.Thread(target=load, args=("first", first_tab)),
        threading.Thread(target=load, args=("second", second_tab)),
    ]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()

    assert len(refreshes) == 1
    assert all("signed in as <strong>Erin</strong>" in page for page in pages.values())
