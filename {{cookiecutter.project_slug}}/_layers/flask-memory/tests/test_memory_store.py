"""The in-process store: sessions expire, and the store stays bounded."""

import time

from flask.testing import FlaskClient

from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import make_app, session_id
from .store import stored_session_ids


def store_a_session(client: FlaskClient) -> str:
    with client.session_transaction() as session:
        session["visited"] = True
    sid = session_id(client)
    assert sid is not None
    return sid


def test_sessions_expire_after_session_lifetime(settings: Settings) -> None:
    app = make_app(settings, session_lifetime=1)
    client = app.test_client()
    store_a_session(client)
    time.sleep(2.1)  # past the lifetime, whole seconds as the store counts them
    with client.session_transaction() as session:
        assert "visited" not in session


def test_store_keeps_at_most_max_entries(settings: Settings) -> None:
    app = make_app(settings, session_memory_max_entries=3)
    newest = [store_a_session(app.test_client()) for _ in range(10)][-1]
    stored = stored_session_ids(app)
    assert len(stored) <= 3
    assert newest in stored
