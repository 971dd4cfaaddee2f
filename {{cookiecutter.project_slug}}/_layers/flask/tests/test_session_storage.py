"""The Logto storage adapter on Flask's real server-side session, saved and loaded."""

import flask
from flask import Flask
from flask.testing import FlaskClient

from {{ cookiecutter.project_slug }}.session_storage import SessionStorage


def test_unknown_key_is_none(app: Flask) -> None:
    with app.test_request_context():
        assert SessionStorage(flask.session).get("idToken") is None


def test_set_then_get_round_trips_through_the_store(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        SessionStorage(session).set("idToken", "token-value")
    with client.session_transaction() as session:
        assert SessionStorage(session).get("idToken") == "token-value"


def test_set_none_and_delete_remove(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        storage = SessionStorage(session)
        storage.set("idToken", "token-value")
        storage.set("refreshToken", "refresh-value")
        session["kept"] = "yes"  # keeps the session (and its cookie) alive
    with client.session_transaction() as session:
        storage = SessionStorage(session)
        storage.set("idToken", None)
        storage.delete("refreshToken")
        storage.delete("accessTokenMap")  # deleting a key that is not there is fine
    with client.session_transaction() as session:
        storage = SessionStorage(session)
        assert storage.get("idToken") is None
        assert storage.get("refreshToken") is None


def test_keys_do_not_collide_with_the_apps_own(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["idToken"] = "the app's own value"
        SessionStorage(session).set("idToken", "logto's value")
    with client.session_transaction() as session:
        assert session["idToken"] == "the app's own value"
        assert SessionStorage(session).get("idToken") == "logto's value"
