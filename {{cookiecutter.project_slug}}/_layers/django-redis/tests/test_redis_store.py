"""Sessions in Redis: they expire, an outage is a 503, and they survive it."""

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from .conftest import session_key, sign_in, stored_session
from .oidc_provider import OidcProvider
from .recovery import assert_no_503_after_restart
from .servers import free_port
from .store import KEY_PREFIX, app_env, redis_server, sessions_redis, use_redis


def test_redis_expires_the_session_with_its_lifetime(
    client: Client, logto: OidcProvider, settings: Any
) -> None:
    sign_in(client, logto)
    key = session_key(client)
    ttl = sessions_redis().ttl(KEY_PREFIX + (key or ""))
    assert 0 < ttl <= settings.SESSION_COOKIE_AGE

    settings.SESSION_COOKIE_AGE = 1
    client.get("/sign-in")  # changes the session: saved again, now with a one-second lifetime
    time.sleep(1.5)
    assert stored_session(key or "") is None
    assert client.get("/profile")["Location"] == "/sign-in"


def test_redis_down_is_503_naming_only_the_store(
    client: Client, logto: OidcProvider, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, logto)
    use_redis(settings, monkeypatch, f"redis://user:hunter2@127.0.0.1:{free_port()}/0")
    pages = (client.get("/"), client.get("/profile"), Client().get("/sign-in"))
    for response in pages:
        assert response.status_code == 503
        assert settings.SESSION_COOKIE_NAME not in response.cookies  # the cookie stays
        page = response.content.decode()
        assert "(Redis)" in page
        assert "hunter2" not in page
        assert "127.0.0.1" not in page
    assert session_key(client)  # the browser keeps its session for when Redis is back
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["session_store"] == "Redis: down"
    assert Client().get("/").status_code == 200  # anonymous pages need no session


def test_app_recovers_when_redis_comes_back(
    client: Client,
    logto: OidcProvider,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    port = free_port()
    use_redis(settings, monkeypatch, f"redis://127.0.0.1:{port}/0")
    with redis_server(port, tmp_path):
        sign_in(client, logto)
        assert client.get("/profile").status_code == 200
    assert client.get("/profile").status_code == 503
    assert client.get("/healthz").status_code == 503
    with redis_server(port, tmp_path):
        assert client.get("/healthz").status_code == 200
        assert client.get("/profile").status_code == 200  # same session, still signed in


def test_no_503_in_any_thread_once_redis_is_back(logto: OidcProvider, tmp_path: Path) -> None:
    port = free_port()
    with ExitStack() as redis_until_restart:
        redis_until_restart.enter_context(redis_server(port, tmp_path))

        def restart() -> None:
            redis_until_restart.close()  # every thread's connection drops
            redis_until_restart.enter_context(redis_server(port, tmp_path))

        env = {**app_env(), "REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        assert_no_503_after_restart(logto, env, restart)
