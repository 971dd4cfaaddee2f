"""Headers on every response: the browser's protections, and what caches may keep."""

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import csrf_token_of, make_app, sign_in
from .oidc_provider import OidcProvider

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def assert_protected(response: TestResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.path, name)


def assert_not_stored(response: TestResponse) -> None:
    assert_protected(response)
    assert "no-store" in response.headers.get("Cache-Control", ""), response.request.path


def assert_varies_by_cookie(response: TestResponse) -> None:
    assert "Cookie" in response.vary, response.request.path


def test_anonymous_responses(client: FlaskClient) -> None:
    home = client.get("/")
    assert_protected(home)
    assert_varies_by_cookie(home)
    assert "no-store" not in home.headers.get("Cache-Control", "")  # one page for everyone
    assert_protected(client.get("/healthz"))
    assert_protected(client.get("/nowhere"))  # 404
    assert_protected(client.get("/sign-out"))  # 405
    assert_not_stored(client.get("/profile"))  # a redirect to sign in
    assert_not_stored(client.post("/sign-out"))  # 403
    assert_not_stored(client.post("/backchannel-logout"))  # 400
    assert_not_stored(client.get("/callback?code=x&state=y"))  # 400


def test_signed_in_responses(client: FlaskClient, provider: OidcProvider) -> None:
    started = client.get("/sign-in")
    assert_not_stored(started)
    finished = client.get(provider.authorize(started.location, sub="alice", name="Alice"))
    assert finished.status_code == 302
    assert_not_stored(finished)
    home = client.get("/")
    assert_not_stored(home)
    assert_varies_by_cookie(home)
    assert_not_stored(client.get("/profile"))
    signed_out = client.post("/sign-out", data={"csrf_token": csrf_token_of(home)})
    assert signed_out.status_code == 303
    assert_not_stored(signed_out)


def test_error_pages(settings: Settings, provider: OidcProvider) -> None:
    app = make_app(settings, logto_app_id="", logto_app_secret="")

    def broken() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/broken", view_func=broken)
    client = app.test_client()
    not_set_up = client.get("/sign-in")
    assert not_set_up.status_code == 503
    assert_not_stored(not_set_up)
    failed = client.get("/broken")
    assert failed.status_code == 500
    assert_protected(failed)


@pytest.mark.parametrize("path", ["/", "/profile"])
def test_a_session_page_varies_by_cookie_and_is_not_stored_after_sign_in(
    app: Flask, client: FlaskClient, provider: OidcProvider, path: str
) -> None:
    sign_in(client, provider, sub="alice", name="Alice")
    client.get(path)
    response = client.get(path)  # unchanged: the session writes no cookie
    assert "Set-Cookie" not in response.headers
    assert_not_stored(response)
    assert_varies_by_cookie(response)
