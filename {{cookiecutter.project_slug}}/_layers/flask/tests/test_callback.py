"""Callbacks that must not sign anyone in: forged, stale, refused at Logto."""

from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient

from {{ cookiecutter.project_slug }}.session_storage import SessionStorage
from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import make_app, session_id
from .oidc_provider import OidcProvider
from .store import stored_session_ids


def assert_refused(response, client: FlaskClient) -> None:
    assert response.status_code == 400
    assert "Sign-in failed" in response.text
    assert "Traceback" not in response.text
    assert "not signed in" in client.get("/").text


def test_callback_without_a_sign_in_session_stores_nothing(app: Flask, client: FlaskClient) -> None:
    response = client.get("/callback?" + urlencode({"code": "stolen", "state": "guessed"}))
    assert_refused(response, client)
    assert session_id(client) is None
    assert stored_session_ids(app) == set()


def test_callback_with_a_wrong_state_is_refused(
    client: FlaskClient, provider: OidcProvider
) -> None:
    started = client.get("/sign-in")
    callback_url = provider.authorize(started.location)
    forged = callback_url.replace("state=", "state=forged")
    assert_refused(client.get(forged), client)


def test_callback_without_state_is_refused(client: FlaskClient, provider: OidcProvider) -> None:
    started = client.get("/sign-in")
    code = provider.authorize(started.location).split("code=")[1].split("&")[0]
    assert_refused(client.get(f"/callback?code={code}"), client)


def test_access_denied_from_the_provider_is_refused(client: FlaskClient) -> None:
    client.get("/sign-in")
    response = client.get("/callback?error=access_denied&error_description=no")
    assert_refused(response, client)


def test_replayed_code_is_refused(app: Flask, provider: OidcProvider) -> None:
    victim = app.test_client()
    started = victim.get("/sign-in")
    callback_url = provider.authorize(started.location)
    with victim.session_transaction() as session:
        pending_sign_in = dict(session)  # what an eavesdropper would need, state and all
    assert victim.get(callback_url).status_code == 302

    attacker = app.test_client()
    with attacker.session_transaction() as session:
        session.update(pending_sign_in)
    assert_refused(attacker.get(callback_url), attacker)


def test_provider_unreachable_at_the_callback_is_a_502(settings: Settings) -> None:
    with OidcProvider.run() as provider:
        client = make_app(settings, logto_endpoint=provider.endpoint).test_client()
        callback_url = provider.authorize(client.get("/sign-in").location)
    response = client.get(callback_url)  # the provider has stopped since
    assert response.status_code == 502
    assert "Logto is unreachable" in response.text
    assert "not signed in" in client.get("/").text
    with client.session_transaction() as session:
        assert SessionStorage(session).get("idToken") is None
