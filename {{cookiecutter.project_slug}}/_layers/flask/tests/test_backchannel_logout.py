"""Back-channel logout: a logout token from Logto ends the sessions it names, and only a
valid one does (OpenID Connect Back-Channel Logout 1.0)."""

import time
import uuid

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from {{ cookiecutter.project_slug }}.auth import CLAIMS_KEY
from {{ cookiecutter.project_slug }}.backchannel_logout import LOGOUT_EVENT, LogoutToken
from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import csrf_token_of, make_app, session_id, sign_in
from .oidc_provider import OidcProvider
from .servers import free_port
from .store import stored_session_ids


def deliver(client: FlaskClient, token: str):
    """Post a logout token as Logto does: a form, from a server, without cookies."""
    logto = client.application.test_client()
    return logto.post("/backchannel-logout", data={"logout_token": token})


def is_signed_in(client: FlaskClient) -> bool:
    return "signed in as" in client.get("/").text


def provider_session_of(client: FlaskClient) -> str:
    with client.session_transaction() as session:
        return session[CLAIMS_KEY]["sid"]


def indexed_sessions(app: Flask, sub: str) -> list[tuple[str, object]]:
    logout = LogoutToken(sub=sub, sid=None, jti="", exp=0)
    return app.session_interface.signed_in_sessions(logout)  # type: ignore[attr-defined]


def token_signed_by_a_stranger(provider: OidcProvider, app_id: str) -> str:
    """A well-formed logout token, under the provider's key id, signed with another key."""
    kid = httpx.get(f"{provider.endpoint}/oidc/jwks").json()["keys"][0]["kid"]
    now = int(time.time())
    claims = {
        "iss": f"{provider.endpoint}/oidc",
        "aud": app_id,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "events": {LOGOUT_EVENT: {}},
        "sub": "alice",
    }
    key = RSAKey.generate_key(2048, parameters={"kid": kid})
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def test_a_logout_token_ends_every_session_of_its_user(
    app: Flask, settings: Settings, provider: OidcProvider
) -> None:
    laptop, phone, bob = app.test_client(), app.test_client(), app.test_client()
    sign_in(laptop, provider, sub="alice", name="Alice")
    sign_in(phone, provider, sub="alice", name="Alice")
    sign_in(bob, provider, sub="bob", name="Bob")
    alices = {session_id(laptop), session_id(phone)}
    assert alices <= stored_session_ids(app)

    response = deliver(laptop, provider.logout_token(settings.logto_app_id, sub="alice"))
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {"ended_sessions": 2}

    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)
    assert is_signed_in(bob)
    assert not alices & stored_session_ids(app)
    assert indexed_sessions(app, "alice") == []


def test_a_logout_token_with_a_sid_ends_that_session_only(
    app: Flask, settings: Settings, provider: OidcProvider
) -> None:
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, provider, sub="alice")
    sign_in(phone, provider, sub="alice")
    token = provider.logout_token(
        settings.logto_app_id, sub="alice", sid=provider_session_of(laptop)
    )
    assert deliver(laptop, token).status_code == 200
    assert not is_signed_in(laptop)
    assert is_signed_in(phone)


def test_a_logout_token_for_another_user_ends_nothing(
    app: Flask, client: FlaskClient, settings: Settings, provider: OidcProvider
) -> None:
    sign_in(client, provider, sub="alice")
    token = provider.logout_token(settings.logto_app_id, sub="carol")
    response = deliver(client, token)
    assert response.status_code == 200
    assert response.json == {"ended_sessions": 0}
    assert is_signed_in(client)


def test_a_replayed_logout_token_does_nothing(
    app: Flask, settings: Settings, provider: OidcProvider
) -> None:
    before, after = app.test_client(), app.test_client()
    sign_in(before, provider, sub="alice")
    token = provider.logout_token(settings.logto_app_id, sub="alice")
    assert deliver(before, token).status_code == 200
    assert not is_signed_in(before)

    sign_in(after, provider, sub="alice")  # signed in again since
    assert deliver(after, token).status_code == 200  # accepted, as the spec asks
    assert is_signed_in(after)


def test_sign_out_removes_the_session_from_the_index(
    app: Flask, client: FlaskClient, provider: OidcProvider
) -> None:
    sign_in(client, provider, sub="alice")
    assert [store_id for store_id, _ in indexed_sessions(app, "alice")] == [
        app.session_interface.key_prefix + str(session_id(client))  # type: ignore[attr-defined]
    ]
    client.post("/sign-out", data={"csrf_token": csrf_token_of(client.get("/"))})
    assert indexed_sessions(app, "alice") == []


INVALID_CLAIMS = {
    "wrong audience": {"aud": "another-app"},
    "wrong issuer": {"iss": "http://127.0.0.1:1/oidc"},
    "missing events": {"events": None},
    "wrong event": {"events": {"http://schemas.openid.net/event/other": {}}},
    "a nonce": {"nonce": "n-0S6_WzA2Mj"},
    "expired": {"iat": int(time.time()) - 3600, "exp": int(time.time()) - 3000},
    "neither sub nor sid": {"sub": None},
    "no expiry": {"exp": None},
}


@pytest.mark.parametrize("claims", INVALID_CLAIMS.values(), ids=INVALID_CLAIMS.keys())
def test_an_invalid_logout_token_is_refused_and_ends_nothing(
    client: FlaskClient, settings: Settings, provider: OidcProvider, claims: dict
) -> None:
    sign_in(client, provider, sub="alice")
    token = provider.logout_token(settings.logto_app_id, **{"sub": "alice", **claims})
    assert_refused(deliver(client, token))
    assert is_signed_in(client)


def test_a_forged_signature_is_refused(
    client: FlaskClient, settings: Settings, provider: OidcProvider
) -> None:
    sign_in(client, provider, sub="alice")
    assert_refused(deliver(client, token_signed_by_a_stranger(provider, settings.logto_app_id)))
    assert is_signed_in(client)


@pytest.mark.parametrize("token", ["", "not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."])
def test_a_missing_or_unsigned_token_is_refused(
    client: FlaskClient, provider: OidcProvider, token: str
) -> None:
    sign_in(client, provider, sub="alice")
    assert_refused(deliver(client, token))
    assert is_signed_in(client)


def test_a_token_that_does_not_validate_is_named(client: FlaskClient) -> None:
    response = deliver(client, "not-a-jwt")
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error_description"].startswith("invalid logout token: ")


@pytest.mark.parametrize("form", [{}, {"logout_token": ""}])
def test_a_missing_token_is_named(client: FlaskClient, form: dict[str, str]) -> None:
    response = client.post("/backchannel-logout", data=form)
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {
        "error": "invalid_request",
        "error_description": "logout_token is missing",
    }


def test_logto_unreachable_is_a_502(settings: Settings, provider: OidcProvider) -> None:
    app = make_app(settings, logto_endpoint=f"http://127.0.0.1:{free_port()}")
    token = provider.logout_token(settings.logto_app_id, sub="alice")
    response = app.test_client().post("/backchannel-logout", data={"logout_token": token})
    assert response.status_code == 502
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {
        "error": "temporarily_unavailable",
        "error_description": "Logto is unreachable",
    }


def test_sign_in_not_set_up_is_a_503(settings: Settings) -> None:
    app = make_app(settings, logto_app_secret="")
    response = app.test_client().post("/backchannel-logout", data={"logout_token": "x"})
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {
        "error": "temporarily_unavailable",
        "error_description": "sign-in is not set up",
    }


def assert_refused(response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json is not None
    assert response.json["error"] == "invalid_request"
