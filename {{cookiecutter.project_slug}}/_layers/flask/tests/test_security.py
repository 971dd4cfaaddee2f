"""Secure by default: session fixation, the cookie, and where sign-in may return to."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import make_app, session_id, sign_in
from .oidc_provider import OidcProvider
from .store import stored_session_ids


def test_callback_rotates_the_session_id_and_deletes_the_old_record(
    app: Flask, client: FlaskClient, provider: OidcProvider
) -> None:
    started = client.get("/sign-in")
    before = session_id(client)
    assert before in stored_session_ids(app)
    client.get(provider.authorize(started.location))
    after = session_id(client)
    assert after is not None
    assert after != before
    assert stored_session_ids(app) == {after}
    assert "signed in as" in client.get("/").text


def test_a_session_id_the_store_does_not_know_is_never_adopted(
    app: Flask, client: FlaskClient, provider: OidcProvider
) -> None:
    planted = "a-session-id-chosen-by-an-attacker"
    client.set_cookie("session", planted, domain="127.0.0.1")
    client.get("/sign-in")
    assert session_id(client) != planted
    sign_in(client, provider)
    assert session_id(client) != planted
    assert planted not in stored_session_ids(app)


def test_cookie_is_http_only_same_site_lax_and_not_secure_over_http(client: FlaskClient) -> None:
    set_cookie = client.get("/sign-in").headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie
    assert "Secure" not in set_cookie


def test_cookie_is_secure_when_base_url_is_https(settings: Settings) -> None:
    client = make_app(settings, base_url="https://app.example").test_client()
    assert "Secure" in client.get("/sign-in").headers["Set-Cookie"]


def test_cookie_stays_small_whatever_the_tokens_weigh(
    client: FlaskClient, provider: OidcProvider
) -> None:
    biography = "A long story. " * 500  # the ID token alone outweighs what a cookie may hold
    sign_in(client, provider, sub="dora", name="Dora", biography=biography)
    assert biography.strip() in client.get("/profile").text
    cookie = session_id(client)
    assert cookie is not None
    assert len(cookie) < 200


def test_sign_in_returns_to_the_page_asked_for(client: FlaskClient, provider: OidcProvider) -> None:
    started = client.get("/sign-in?next=/some/path%3Fx%3D1")
    finished = client.get(provider.authorize(started.location))
    assert finished.location == "/some/path?x=1"


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "evil.example",
    ],
)
def test_sign_in_never_returns_to_another_site(
    client: FlaskClient, provider: OidcProvider, next_path: str
) -> None:
    started = client.get("/sign-in", query_string={"next": next_path})
    finished = client.get(provider.authorize(started.location))
    assert finished.location == "/"
