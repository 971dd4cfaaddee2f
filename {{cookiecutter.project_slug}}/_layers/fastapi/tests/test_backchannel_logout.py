"""Back-channel logout: a logout token from Logto ends the sessions it names, and nothing else.

Tokens come from the test provider, signed with its own key, as Logto would send them;
forged ones are signed with a key of the test's own under the provider's key id.
"""

import re
import time
from typing import Any

import httpx2
import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt as jose_jwt
from joserfc.jwk import RSAKey

from {{ cookiecutter.project_slug }}.main import create_app

from .conftest import BASE_URL, make_settings
from .flow import csrf_token, sign_in
from .helpers import closed_port
from .oidc_provider import OidcProvider
from .store import stored_session_ids

APP_ID = "test-app"
SID_ROW = re.compile(r"<tr><th>sid</th><td>([0-9a-f]+)</td></tr>")


def deliver(client: TestClient, token: str) -> httpx2.Response:
    return client.post("/backchannel-logout", data={"logout_token": token})


def is_signed_in(client: TestClient) -> bool:
    return client.get("/profile").status_code == 200


def logto_session_id(client: TestClient) -> str:
    """The `sid` of the client's sign-in, from the ID token claims its profile page shows."""
    match = SID_ROW.search(client.get("/profile").text)
    assert match, "the ID token names no sid"
    return match.group(1)


def linked(client: TestClient, app: FastAPI, key: str) -> set[str]:
    assert client.portal is not None
    return client.portal.call(app.state.session_store.linked, key)


@pytest.fixture
def third_client(app: FastAPI, client: TestClient) -> TestClient:
    other = TestClient(app, base_url=str(client.base_url), follow_redirects=False)
    other.portal = client.portal
    return other


def test_logout_token_ends_every_session_of_its_user_only(
    app: FastAPI,
    client: TestClient,
    other_client: TestClient,
    third_client: TestClient,
    provider: OidcProvider,
) -> None:
    sign_in(client, provider, sub="alice")
    sign_in(other_client, provider, sub="alice")
    sign_in(third_client, provider, sub="bob")
    alices = {client.cookies["session"], other_client.cookies["session"]}

    response = deliver(client, provider.logout_token(APP_ID, sub="alice"))
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert not alices & stored_session_ids(app)
    assert not is_signed_in(client)
    assert not is_signed_in(other_client)
    assert "You are not signed in" in client.get("/").text
    assert is_signed_in(third_client)


def test_logout_token_with_a_sid_ends_that_sign_in_only(
    client: TestClient, other_client: TestClient, provider: OidcProvider
) -> None:
    sign_in(client, provider, sub="alice")
    sign_in(other_client, provider, sub="alice")
    sid = logto_session_id(client)
    assert sid != logto_session_id(other_client)

    response = deliver(client, provider.logout_token(APP_ID, sub="alice", sid=sid))
    assert response.status_code == 200
    assert not is_signed_in(client)
    assert is_signed_in(other_client)


def test_logout_token_for_another_user_ends_nothing(
    app: FastAPI, client: TestClient, provider: OidcProvider
) -> None:
    sign_in(client, provider, sub="alice")
    before = stored_session_ids(app)
    assert deliver(client, provider.logout_token(APP_ID, sub="mallory")).status_code == 200
    assert stored_session_ids(app) == before
    assert is_signed_in(client)


def test_replayed_logout_token_is_accepted_and_ends_nothing(
    client: TestClient, provider: OidcProvider
) -> None:
    token = provider.logout_token(APP_ID, sub="alice")
    sign_in(client, provider, sub="alice")
    assert deliver(client, token).status_code == 200
    assert not is_signed_in(client)

    sign_in(client, provider, sub="alice")  # a new sign-in after that logout
    assert deliver(client, token).status_code == 200
    assert is_signed_in(client)


def test_sign_out_takes_the_session_out_of_the_index(
    app: FastAPI, client: TestClient, provider: OidcProvider
) -> None:
    sign_in(client, provider, sub="dave")
    session_id = client.cookies["session"]
    sid = logto_session_id(client)
    assert linked(client, app, "sub:dave") == {session_id}
    assert linked(client, app, f"sid:{sid}") == {session_id}

    assert client.post("/sign-out", data={"csrf_token": csrf_token(client)}).status_code == 303
    assert linked(client, app, "sub:dave") == set()
    assert linked(client, app, f"sid:{sid}") == set()


def forged_token(provider: OidcProvider, **claims: Any) -> str:
    """A logout token with the right claims, signed with a key that is not the provider's."""
    genuine = provider.logout_token(APP_ID, sub="alice", **claims)
    header = jwt.get_unverified_header(genuine)
    payload = jwt.decode(genuine, options={"verify_signature": False})
    key = RSAKey.generate_key(2048)
    return jose_jwt.encode({"alg": "RS256", "kid": header["kid"]}, payload, key)


def unsigned_token(provider: OidcProvider) -> str:
    payload = jwt.decode(provider.logout_token(APP_ID), options={"verify_signature": False})
    return jwt.encode(payload, None, algorithm="none")


NOW = int(time.time())
INVALID_TOKENS = {
    "forged signature": forged_token,
    "unsigned": unsigned_token,
    "wrong audience": lambda provider: provider.logout_token("another-app"),
    "wrong issuer": lambda provider: provider.logout_token(APP_ID, iss="https://evil.example"),
    "no events": lambda provider: provider.logout_token(APP_ID, events=None),
    "other event": lambda provider: provider.logout_token(APP_ID, events={"other": {}}),
    "nonce": lambda provider: provider.logout_token(APP_ID, nonce="n-0S6_WzA2Mj"),
    "expired": lambda provider: provider.logout_token(APP_ID, iat=NOW - 3600, exp=NOW - 3000),
    "issued long ago": lambda provider: provider.logout_token(APP_ID, iat=NOW - 3600),
    "neither sub nor sid": lambda provider: provider.logout_token(APP_ID, sub=None),
    "no expiry": lambda provider: provider.logout_token(APP_ID, exp=None),
    "not a JWT": lambda provider: "not-a-token",
}


@pytest.mark.parametrize("make_token", INVALID_TOKENS.values(), ids=INVALID_TOKENS.keys())
def test_invalid_logout_token_is_a_400_and_ends_nothing(
    app: FastAPI, client: TestClient, provider: OidcProvider, make_token: Any
) -> None:
    sign_in(client, provider, sub="alice")
    before = stored_session_ids(app)
    response = deliver(client, make_token(provider))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["error_description"].startswith("invalid logout token: ")
    assert stored_session_ids(app) == before
    assert is_signed_in(client)


@pytest.mark.parametrize("form", [{}, {"logout_token": ""}])
def test_missing_logout_token_is_a_400(client: TestClient, form: dict[str, str]) -> None:
    response = client.post("/backchannel-logout", data=form)
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "logout_token is missing",
    }


def test_unreachable_logto_is_a_502(store_settings: dict[str, Any]) -> None:
    settings = make_settings(store_settings, logto_endpoint=f"http://127.0.0.1:{closed_port()}")
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        response = deliver(client, "any.logout.token")
    assert response.status_code == 502
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "error": "temporarily_unavailable",
        "error_description": "Logto is unreachable",
    }


def test_sign_in_not_set_up_is_a_503(store_settings: dict[str, Any]) -> None:
    settings = make_settings(store_settings, logto_endpoint="")
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        response = deliver(client, "any.logout.token")
    assert response.status_code == 503
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "error": "temporarily_unavailable",
        "error_description": "sign-in is not set up",
    }
