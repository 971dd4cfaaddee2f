"""A sign-in under way is kept SIGN_IN_TIMEOUT seconds; a signed-in session SESSION_LIFETIME."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.session_middleware import SIGN_IN_TIMEOUT

from .flow import sign_in
from .oidc_provider import OidcProvider


def stored_expiry(app: FastAPI, client: TestClient) -> float:
    """Seconds the store still keeps the client's session."""
    assert client.portal is not None
    stored = client.portal.call(app.state.session_store.load, client.cookies["session"])
    assert stored is not None
    return stored.expires_in


def test_a_sign_in_under_way_expires_after_the_sign_in_timeout(
    app: FastAPI, client: TestClient
) -> None:
    started = client.get("/sign-in")
    assert SIGN_IN_TIMEOUT == 600
    assert f"Max-Age={SIGN_IN_TIMEOUT}" in started.headers["set-cookie"]
    assert SIGN_IN_TIMEOUT - 5 < stored_expiry(app, client) <= SIGN_IN_TIMEOUT
    # Used again, it is not kept longer: a sign-in is not slid.
    assert client.get("/").status_code == 200
    assert "set-cookie" not in client.get("/").headers
    assert stored_expiry(app, client) <= SIGN_IN_TIMEOUT


def test_a_signed_in_session_lives_the_session_lifetime(
    app: FastAPI, client: TestClient, provider: OidcProvider
) -> None:
    lifetime = app.state.settings.session_lifetime
    callback = sign_in(client, provider)
    assert f"Max-Age={lifetime}" in callback.headers["set-cookie"]
    assert lifetime - 5 < stored_expiry(app, client) <= lifetime
