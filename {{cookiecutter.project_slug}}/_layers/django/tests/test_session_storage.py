"""Logto's Storage adapter on a real Django session of this project's engine."""

from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from {{ cookiecutter.project_slug }}.session_storage import SessionStorage


def new_session() -> SessionBase:
    return import_module(settings.SESSION_ENGINE).SessionStore()


def test_unknown_key_is_none() -> None:
    assert SessionStorage(new_session()).get("idToken") is None


def test_set_then_get_round_trips_through_the_store() -> None:
    session = new_session()
    SessionStorage(session).set("idToken", "token")
    session.save()
    reloaded = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
    assert SessionStorage(reloaded).get("idToken") == "token"


def test_set_none_and_delete_remove() -> None:
    storage = SessionStorage(new_session())
    storage.set("idToken", "token")
    storage.set("idToken", None)
    assert storage.get("idToken") is None
    storage.set("refreshToken", "token")
    storage.delete("refreshToken")
    assert storage.get("refreshToken") is None
    storage.delete("refreshToken")  # deleting what is not there is fine


def test_keys_do_not_collide_with_the_apps_own() -> None:
    session = new_session()
    session["idToken"] = "the app's own value"
    storage = SessionStorage(session)
    storage.set("idToken", "Logto's value")
    assert storage.get("idToken") == "Logto's value"
    assert session["idToken"] == "the app's own value"
    storage.delete("idToken")
    assert session["idToken"] == "the app's own value"
