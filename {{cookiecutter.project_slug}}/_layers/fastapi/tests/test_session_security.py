"""The session id: never chosen by the client, renewed at sign-in, kept in a safe cookie."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from .flow import sign_in
from .oidc_provider import OidcProvider
from .store import stored_session_ids

MADE_UP_ID = "0123456789abcdef0123456789abcdef"


def test_session_id_made_up_by_the_client_is_never_adopted(
    app: FastAPI, client: TestClient, provider: OidcProvider
) -> None:
    client.cookies.set("session", MADE_UP_ID, domain="127.0.0.1")
    started = client.get("/sign-in")
    assert started.status_code == 303
    assert client.cookies["session"] != MADE_UP_ID
    assert MADE_UP_ID not in stored_session_ids(app)

    client.cookies.set("session", MADE_UP_ID, domain="127.0.0.1")
    sign_in(client, provider)
    assert client.cookies["session"] != MADE_UP_ID
    assert MADE_UP_ID not in stored_session_ids(app)


def test_session_id_is_rotated_at_sign_in_and_the_old_record_deleted(
    app: FastAPI, client: TestClient, provider: OidcProvider
) -> None:
    started = client.get("/sign-in")
    id_before_sign_in = client.cookies["session"]
    assert id_before_sign_in in stored_session_ids(app)

    callback_url = provider.authorize(started.headers["location"], sub="alice")
    assert client.get(callback_url).status_code == 303
    assert client.cookies["session"] != id_before_sign_in
    assert id_before_sign_in not in stored_session_ids(app)
    assert client.cookies["session"] in stored_session_ids(app)
    assert client.get("/profile").status_code == 200
