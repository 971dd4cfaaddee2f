"""A session cookie is an id of the app's own form, or no session at all; a record the store
holds that is not a session is none either. Neither is ever an error."""

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.session_middleware import is_session_id, new_session_id

from .flow import sign_in
from .oidc_provider import OidcProvider

NOT_SESSION_IDS = [
    "provider-session:x",
    "index:sub:alice",
    "logout-token:x",
    "used:jti:x",
    "../x",
    "0123456789ABCDEF0123456789ABCDEF",  # an id's length, not its alphabet
    "0123456789abcdef0123456789abcde",
    "0123456789abcdef0123456789abcdef0",
    "a" * 4000,
]


def test_ids_are_of_the_form_they_are_checked_against() -> None:
    assert all(is_session_id(new_session_id()) for _ in range(100))
    assert not any(is_session_id(value) for value in NOT_SESSION_IDS)


@pytest.fixture
def store_untouched(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("the store was asked")

    for operation in ("load", "save", "touch", "delete", "linked"):
        monkeypatch.setattr(app.state.session_store, operation, refuse)


@pytest.mark.parametrize("cookie", NOT_SESSION_IDS)
@pytest.mark.usefixtures("store_untouched")
def test_a_cookie_that_is_no_session_id_is_no_session(client: TestClient, cookie: str) -> None:
    client.cookies.set("session", cookie, domain="127.0.0.1")
    for path in ("/", "/profile"):
        response = client.get(path)
        assert response.status_code in (200, 302), path
        assert "set-cookie" not in response.headers
    assert "You are not signed in" in client.get("/").text
    assert client.get("/healthz").status_code == 200


def store_call(client: TestClient, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    assert client.portal is not None
    return client.portal.call(lambda: operation(*args, **kwargs))


@pytest.mark.parametrize("garbage", [b"\xff\xfe not json", b"[1, 2]", b"", b"1"])
def test_a_record_that_is_no_session_is_an_anonymous_visit(
    app: FastAPI,
    client: TestClient,
    provider: OidcProvider,
    caplog: pytest.LogCaptureFixture,
    garbage: bytes,
) -> None:
    sign_in(client, provider)
    session_id = client.cookies["session"]
    store = app.state.session_store
    store_call(client, store.save, session_id, garbage, ttl=60, signed_in=True)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        home = client.get("/")
    assert home.status_code == 200
    assert "You are not signed in" in home.text
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.getMessage() for record in warnings] == [
        "A session record that cannot be read counts as none"
    ]
    assert client.get("/profile").headers["location"] == "/sign-in"
    assert client.get("/healthz").status_code == 200
