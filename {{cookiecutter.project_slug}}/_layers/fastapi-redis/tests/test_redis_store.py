"""Redis expires sessions, and its outages give 503 pages that end when Redis is back."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from {{ cookiecutter.project_slug }}.main import create_app
from {{ cookiecutter.project_slug }}.session_middleware import SIGN_IN_TIMEOUT, new_session_id

from .conftest import BASE_URL, make_settings, signed_in_client
from .flow import sign_in, status_codes_at_once
from .helpers import closed_port, wait_for
from .oidc_provider import OidcProvider
from .store import stored_session_ids


class RedisProcess:
    """A redis-server of the test's own, which the test may stop and start again."""

    def __init__(self, port: int, directory: Path) -> None:
        self.url = f"redis://127.0.0.1:{port}/0"
        self.command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
        self.command += ["--save", "", "--dir", str(directory)]
        self.process: subprocess.Popen[bytes] | None = None

    def answers(self) -> bool:
        try:
            with Redis.from_url(self.url, socket_connect_timeout=1) as redis:
                return bool(redis.ping())
        except RedisConnectionError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        wait_for(self.answers, "serving")

    def stop(self) -> None:
        """Stop, keeping the data on disk for the next start (as a real Redis would)."""
        with Redis.from_url(self.url) as redis:
            redis.save()
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def redis_process(directory: Path) -> Iterator[RedisProcess]:
    redis = RedisProcess(closed_port(), directory)
    redis.start()
    try:
        yield redis
    finally:
        if redis.process and redis.process.poll() is None:
            redis.process.terminate()
            redis.process.wait(timeout=10)


def session_ttl(settings: Any, session_id: str) -> int:
    with Redis.from_url(settings.redis_url) as redis:
        return redis.ttl(settings.session_key_prefix + session_id)


def test_session_lifetime_drives_the_cookie_and_the_redis_expiry(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    settings = make_settings(store_settings, logto_endpoint=provider.endpoint, session_lifetime=600)
    app = create_app(settings)
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        callback = sign_in(client, provider)
        assert "Max-Age=600" in callback.headers["set-cookie"].title()
        assert 0 < session_ttl(settings, client.cookies["session"]) <= 600


def test_a_sign_in_under_way_expires_in_redis_after_the_sign_in_timeout(
    app: FastAPI, client: TestClient, provider: OidcProvider
) -> None:
    client.get("/sign-in")
    assert 0 < session_ttl(app.state.settings, client.cookies["session"]) <= SIGN_IN_TIMEOUT
    sign_in(client, provider)
    lifetime = app.state.settings.session_lifetime
    assert lifetime - 5 < session_ttl(app.state.settings, client.cookies["session"]) <= lifetime


@pytest.mark.parametrize("value", [b"", b"short", b"\xff" * 12])
def test_a_value_that_is_no_session_is_an_anonymous_visit(
    app: FastAPI, client: TestClient, value: bytes
) -> None:
    settings = app.state.settings
    session_id = new_session_id()
    with Redis.from_url(settings.redis_url) as redis:
        redis.set(settings.session_key_prefix + session_id, value, ex=60)
    client.cookies.set("session", session_id, domain="127.0.0.1")
    home = client.get("/")
    assert home.status_code == 200
    assert "You are not signed in" in home.text


def test_idle_session_expires_in_redis(
    client: TestClient, provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    sign_in(client, provider)
    session_id = client.cookies["session"]
    # The same store seen by an app whose sessions live one second: the next request that
    # uses the session gives it one second more, then Redis drops it.
    one_second = make_settings(store_settings, logto_endpoint=provider.endpoint, session_lifetime=1)
    short_lived = create_app(one_second)
    with TestClient(short_lived, base_url=BASE_URL, follow_redirects=False) as browser:
        browser.cookies.set("session", session_id, domain="127.0.0.1")
        assert browser.get("/profile").status_code == 200
        wait_for(lambda: session_id not in stored_session_ids(short_lived), "expired")
        browser.cookies.set("session", session_id, domain="127.0.0.1")  # whatever its max-age
        assert browser.get("/profile").headers["location"] == "/sign-in"


@pytest.fixture
def client_without_redis(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> Iterator[TestClient]:
    url = f"redis://user:hunter2@127.0.0.1:{closed_port()}/0"
    settings = make_settings(store_settings, logto_endpoint=provider.endpoint, redis_url=url)
    with TestClient(create_app(settings), base_url=BASE_URL, follow_redirects=False) as client:
        yield client


def test_unreachable_redis_is_a_503_page_naming_redis_only(
    client_without_redis: TestClient,
) -> None:
    client_without_redis.cookies.set("session", "0" * 32, domain="127.0.0.1")
    for path in ("/", "/sign-in", "/profile"):
        response = client_without_redis.get(path)
        assert response.status_code == 503, path
        assert "Redis" in response.text
        assert "hunter2" not in response.text
        assert "127.0.0.1" not in response.text


def test_anonymous_home_needs_no_redis(client_without_redis: TestClient) -> None:
    assert client_without_redis.get("/").status_code == 200


def test_new_session_that_cannot_be_saved_is_a_503_page(client_without_redis: TestClient) -> None:
    response = client_without_redis.get("/sign-in")
    assert response.status_code == 503
    assert "Redis" in response.text
    assert "set-cookie" not in response.headers


def test_healthz_reports_redis_down(client_without_redis: TestClient) -> None:
    response = client_without_redis.get("/healthz")
    assert response.status_code == 503
    assert response.json()["session_store"] == "Redis: down"


def test_app_recovers_when_redis_comes_back(
    provider: OidcProvider, store_settings: dict[str, Any], tmp_path: Path
) -> None:
    with (
        redis_process(tmp_path) as redis,
        signed_in_client(provider, store_settings, redis_url=redis.url) as client,
    ):
        assert client.get("/profile").status_code == 200

        redis.stop()
        assert client.get("/healthz").status_code == 503
        down = client.get("/profile")
        assert down.status_code == 503
        assert "set-cookie" not in down.headers

        redis.start()
        assert client.get("/healthz").status_code == 200
        assert client.get("/profile").status_code == 200  # the same session, not lost


def test_requests_right_after_redis_restarts_all_succeed(
    provider: OidcProvider, store_settings: dict[str, Any], tmp_path: Path
) -> None:
    with (
        redis_process(tmp_path) as redis,
        signed_in_client(provider, store_settings, redis_url=redis.url) as client,
    ):
        assert set(status_codes_at_once(client, "/profile")) == {200}  # pooled connections

        redis.stop()  # every pooled connection is dropped
        redis.start()
        assert status_codes_at_once(client, "/profile") == [200] * 8


def command_counts(redis: Redis) -> dict[str, int]:
    stats = redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): stat["calls"] for name, stat in stats.items()}


def commands_sent(redis: Redis, before: dict[str, int]) -> dict[str, int]:
    """The commands sent since `before`, less the INFO that counted them."""
    after = command_counts(redis)
    sent = {name: calls - before.get(name, 0) for name, calls in after.items()}
    sent["info"] -= 1
    return {name: calls for name, calls in sent.items() if calls}


def test_unchanged_signed_in_page_is_one_get_and_a_slide_one_expire(
    provider: OidcProvider, store_settings: dict[str, Any], tmp_path: Path
) -> None:
    with (
        redis_process(tmp_path) as server,
        Redis.from_url(server.url, single_connection_client=True) as redis,
    ):
        settings = make_settings(
            store_settings, logto_endpoint=provider.endpoint, redis_url=server.url
        )
        app = create_app(settings)
        with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
            sign_in(client, provider)
            command_counts(redis)  # connects
            before = command_counts(redis)
            assert client.get("/").status_code == 200
            assert commands_sent(redis, before) == {"get": 1}

            # As if 11% of the lifetime had passed since the session was last saved.
            lifetime = settings.session_lifetime
            session_id = client.cookies["session"]
            assert client.portal is not None
            client.portal.call(app.state.session_store.touch, session_id, int(lifetime * 0.89))
            before = command_counts(redis)
            assert client.get("/").status_code == 200
            # The expiry, and the 8 bytes that note it in the value; never the session.
            assert commands_sent(redis, before) == {"get": 1, "expire": 1, "setrange": 1}
            assert 0 < session_ttl(settings, session_id) <= lifetime
