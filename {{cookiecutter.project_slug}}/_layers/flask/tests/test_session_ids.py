"""Session cookies this app did not make, and stored sessions it cannot read."""

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .conftest import session_id
from .store import store_raw, store_traffic

NOT_SESSION_IDS = [
    "provider-session:x",  # the store's own keys, under the same prefix
    "subject:alice",
    "index:sub:alice",
    "logout-token:x",
    "../x",
    "x" * 4000,
    "A" * 42,  # one short of an id
    "A" * 42 + "=",
    "A" * 42 + "/",  # base64, but not the URL-safe kind
]


@pytest.mark.parametrize("cookie", NOT_SESSION_IDS)
def test_a_cookie_that_is_not_a_session_id_is_no_cookie(
    app: Flask, client: FlaskClient, cookie: str
) -> None:
    client.set_cookie("session", cookie, domain="127.0.0.1")
    with store_traffic(app) as traffic:
        home = client.get("/")
    assert home.status_code == 200
    assert "You are not signed in." in home.text
    assert "Set-Cookie" not in home.headers
    assert (traffic.reads, traffic.writes) == ([], [])
    assert client.get("/healthz").status_code == 200


def test_a_stored_session_that_does_not_decode_is_no_session(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    client.get("/sign-in")
    sid = session_id(client)
    assert sid is not None
    store_raw(app, sid, b"\xc1 not msgpack, not JSON, not a pickle")
    with caplog.at_level(logging.WARNING):
        home = client.get("/")
    assert home.status_code == 200
    assert "You are not signed in." in home.text
    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1, caplog.text
    assert "does not decode" in warnings[0].getMessage()
    assert warnings[0].exc_info is None
    assert client.get("/healthz").status_code == 200
