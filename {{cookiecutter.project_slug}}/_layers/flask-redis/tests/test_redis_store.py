"""Sessions in Redis: one key per session, expiring with SESSION_LIFETIME."""

import time

import redis

from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import make_app, store_a_session


def test_session_key_has_the_prefix_and_the_lifetime(settings: Settings) -> None:
    app = make_app(settings, session_lifetime=600)
    sid = store_a_session(app.test_client())
    client = redis.Redis.from_url(settings.redis_url)
    ttl = client.ttl(f"{settings.session_key_prefix}{sid}")
    assert 0 < ttl <= 600


def test_sessions_expire_after_session_lifetime(settings: Settings) -> None:
    app = make_app(settings, session_lifetime=1)
    client = app.test_client()
    store_a_session(client)
    time.sleep(2.1)  # past the lifetime
    with client.session_transaction() as session:
        assert "visited" not in session


def test_a_session_deleted_while_its_expiry_moves_reads_as_none(settings: Settings) -> None:
    interface = make_app(settings).session_interface
    store_id = f"{settings.session_key_prefix}deleted-meanwhile"
    interface.touch(store_id, time.time() + 60, None)  # type: ignore[attr-defined]
    assert interface.load(store_id) is None  # type: ignore[attr-defined]
    ttl = redis.Redis.from_url(settings.redis_url).ttl(store_id)
    assert 0 < ttl <= 60  # and what the move left behind expires
