"""What a page view costs: store commands counted against the real store, provider calls.

An unchanged signed-in request reads the store once and writes nothing; an anonymous one
touches nothing; sessions still slide, by an expiry-only write now and then.
"""

import time
from types import SimpleNamespace

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from jwt import PyJWKClient

from {{ cookiecutter.project_slug }} import logto_client, session_interface
from {{ cookiecutter.project_slug }}.session_interface import REFRESH_FRACTION
from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import csrf_token_of, make_app, session_id, sign_in
from .oidc_provider import OidcProvider
from .store import is_expiry_update, store_traffic


def test_an_anonymous_request_touches_no_store_and_sets_no_cookie(
    app: Flask, client: FlaskClient
) -> None:
    with store_traffic(app) as traffic:
        response = client.get("/")
    assert "Hello Logto!" in response.text
    assert "Set-Cookie" not in response.headers
    assert (traffic.reads, traffic.writes) == ([], [])


@pytest.mark.parametrize("path", ["/", "/profile"])
def test_an_unchanged_signed_in_request_reads_once_and_writes_nothing(
    app: Flask, client: FlaskClient, provider: OidcProvider, path: str
) -> None:
    sign_in(client, provider, sub="alice", name="Alice")
    client.get(path)  # the first visit after sign-in changes nothing either
    for _ in range(3):
        with store_traffic(app) as traffic:
            response = client.get(path)
        assert response.status_code == 200
        assert "Alice" in response.text
        assert "Set-Cookie" not in response.headers
        assert len(traffic.reads) == 1, traffic
        assert traffic.writes == [], traffic


def test_the_session_slides_by_an_expiry_only_write_once_in_a_while(
    app: Flask, client: FlaskClient, provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, provider, sub="alice", name="Alice")
    interface = app.session_interface
    store_id = interface.key_prefix + str(session_id(client))  # type: ignore[attr-defined]
    lifetime = interface.lifetime  # type: ignore[attr-defined]
    # The session interface's clock, moved on past the share of the lifetime that passes
    # before the expiry is pushed back (the stores' own clocks stay: the session is live).
    later = time.time() + lifetime * REFRESH_FRACTION + 1
    monkeypatch.setattr(session_interface, "time", SimpleNamespace(time=lambda: later))

    with store_traffic(app) as traffic:
        response = client.get("/")
    assert "signed in as <strong>Alice</strong>" in response.text
    assert len(traffic.reads) == 1, traffic
    assert traffic.writes, traffic
    assert all(is_expiry_update(write) for write in traffic.writes), traffic
    assert "Set-Cookie" in response.headers  # the cookie's expiry slides along
    record = interface.load(store_id)  # type: ignore[attr-defined]
    assert record is not None
    assert record.expires_at >= later + lifetime - 1

    with store_traffic(app) as traffic:
        client.get("/")
    assert traffic.writes == []  # pushed back a moment ago


def test_sign_in_and_sign_out_read_the_session_once(
    app: Flask, client: FlaskClient, provider: OidcProvider
) -> None:
    with store_traffic(app) as traffic:
        started = client.get("/sign-in")
    assert traffic.reads == []  # a new session: nothing to read
    assert traffic.writes, traffic
    with store_traffic(app) as traffic:
        client.get(provider.authorize(started.location, sub="alice"))
    assert len(traffic.reads) == 1, traffic
    assert traffic.writes, traffic  # the old id's record deleted, the new one saved
    home = client.get("/")
    with store_traffic(app) as traffic:
        client.post("/sign-out", data={"csrf_token": csrf_token_of(home)})
    assert len(traffic.reads) == 1, traffic
    assert traffic.writes, traffic
    assert all("del" in write.lower() for write in traffic.writes), traffic  # deletes only


def test_a_page_view_asks_the_provider_nothing(settings: Settings) -> None:
    with OidcProvider.run() as provider:
        client = make_app(settings, logto_endpoint=provider.endpoint).test_client()
        sign_in(client, provider, sub="alice", name="Alice")
    # The provider has stopped: the home page still knows who is signed in.
    assert "signed in as <strong>Alice</strong>" in client.get("/").text


def test_a_page_view_decodes_no_jwt(
    client: FlaskClient, provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, provider, sub="alice", name="Alice")
    decodes: list[str] = []
    decode = jwt.decode

    def counting_decode(token: str, *args: object, **kwargs: object) -> object:
        decodes.append(token)
        return decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting_decode)
    assert "signed in as <strong>Alice</strong>" in client.get("/").text
    assert decodes == []


def test_the_jwks_is_not_fetched_again_every_five_minutes(
    app: Flask, provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(app.test_client(), provider, sub="alice")  # the JWKS is fetched by now
    fetches: list[str] = []
    fetch = PyJWKClient.fetch_data

    def counting_fetch(self: PyJWKClient):
        fetches.append(self.uri)
        return fetch(self)

    monkeypatch.setattr(PyJWKClient, "fetch_data", counting_fetch)
    cache = logto_client._oidc_cores[provider.endpoint].jwksClient.jwk_set_cache
    assert cache is not None and cache.jwk_set_with_timestamp is not None
    # Fetched ten minutes ago, as far as the cache can tell: past PyJWKClient's default
    # lifespan (5 minutes), well within the app's.
    cache.jwk_set_with_timestamp.timestamp -= 600
    sign_in(app.test_client(), provider, sub="bob")
    assert fetches == []
