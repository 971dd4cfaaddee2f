"""An unfinished sign-in is kept for minutes; a signed-in session for SESSION_LIFETIME."""

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from {{ cookiecutter.project_slug }}.session_interface import SIGN_IN_TIMEOUT
from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import session_id, sign_in
from .oidc_provider import OidcProvider
from .store import stored_expiry


def test_an_unfinished_sign_in_expires_after_the_sign_in_timeout(
    app: Flask, client: FlaskClient
) -> None:
    started = time.time()
    client.get("/sign-in")
    sid = session_id(client)
    assert sid is not None
    assert started < stored_expiry(app, sid) <= time.time() + SIGN_IN_TIMEOUT
    cookie = client.get_cookie("session", domain="127.0.0.1")
    assert cookie is not None and cookie.expires is not None
    assert cookie.expires.timestamp() <= time.time() + SIGN_IN_TIMEOUT


def test_a_signed_in_session_expires_after_the_session_lifetime(
    app: Flask, client: FlaskClient, provider: OidcProvider, settings: Settings
) -> None:
    sign_in(client, provider, sub="alice", name="Alice")
    sid = session_id(client)
    assert sid is not None
    expected = time.time() + settings.session_lifetime
    assert stored_expiry(app, sid) == pytest.approx(expected, abs=10)
