"""The session id: never chosen by the client, renewed at sign-in, kept in a safe cookie."""

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.main import create_app

from .conftest import make_settings
from .flow import sign_in
from .oidc_provider import OidcProvider
from .store import stored_session_ids

MADE_UP_ID = "0123456789abcdef0123456789abcdef"


def test_session_id_made_up_by_the_client_is_never_adopted(
    app: FastAPI, client: TestClient, provider: OidcProvider
) -> None:
    client.cookies.set("session", MADE_UP_ID, domain="127.0.0.1")
    started = client.get("/sign-in")
    assert started.status_code == 302
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
    assert client.get(callback_url).status_code == 302
    assert client.cookies["session"] != id_before_sign_in
    assert id_before_sign_in not in stored_session_ids(app)
    assert client.cookies["session"] in stored_session_ids(app)
    assert client.get("/profile").status_code == 200


def test_session_cookie_is_httponly_and_samesite_lax_but_not_secure_over_http(
    client: TestClient, provider: OidcProvider
) -> None:
    cookie = sign_in(client, provider).headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie


def test_session_cookie_is_secure_when_base_url_is_https(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    https_url = "https://127.0.0.1:8000"
    settings = make_settings(store_settings, logto_endpoint=provider.endpoint, base_url=https_url)
    with TestClient(create_app(settings), base_url=https_url, follow_redirects=False) as client:
        cookie = client.get("/sign-in").headers["set-cookie"].lower()
    assert "secure" in cookie.split("; ")
    assert "httponly" in cookie


def test_cookie_stays_small_whatever_the_tokens_weigh(
    client: TestClient, provider: OidcProvider
) -> None:
    big_name = "Alice " + "x" * 20_000
    cookie = sign_in(client, provider, name=big_name).headers["set-cookie"]
    assert len(cookie) < 200
    assert len(client.cookies["session"]) < 64
    assert big_name in client.get("/profile").text  # the big ID token is in the store
