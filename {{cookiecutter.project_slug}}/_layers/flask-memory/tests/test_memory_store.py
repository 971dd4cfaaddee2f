"""The in-process store: sessions expire, and the store stays bounded."""

import time

from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import make_app, session_id, sign_in, store_a_session
from .oidc_provider import OidcProvider
from .store import stored_session_ids


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


def test_a_flood_of_unfinished_sign_ins_never_evicts_a_signed_in_session(
    settings: Settings, provider: OidcProvider
) -> None:
    app = make_app(settings, session_memory_max_entries=20)  # 2 unfinished sign-ins at most
    alice = app.test_client()
    sign_in(alice, provider, sub="alice", name="Alice")
    for _ in range(30):
        assert app.test_client().get("/sign-in").status_code == 302
    assert "signed in as <strong>Alice</strong>" in alice.get("/").text
    assert len(stored_session_ids(app)) == 1 + 2


def test_the_newest_unfinished_sign_ins_are_kept(settings: Settings) -> None:
    app = make_app(settings, session_memory_max_entries=20)
    clients = [app.test_client() for _ in range(5)]
    for client in clients:
        client.get("/sign-in")
    assert stored_session_ids(app) == {session_id(client) for client in clients[-2:]}
