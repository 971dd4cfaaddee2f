"""Sessions in MongoDB: one record each, expiring by TTL, an outage is a 503 and survivable."""

from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.test import Client
from django.utils import timezone

from .conftest import session_key, sign_in, stored_session
from .oidc_provider import OidcProvider
from .recovery import assert_no_503_after_restart
from .servers import free_port
from .store import KEY_PREFIX, app_env, mongodb_server, session_records, store_at


def test_a_session_is_one_record_with_its_expiry_date(
    client: Client, logto: OidcProvider, settings: Any
) -> None:
    sign_in(client, logto)
    key = session_key(client) or ""
    record = session_records().find_one({"_id": KEY_PREFIX + key})
    assert record is not None
    lifetime = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert timezone.now() < record["expires_at"] <= timezone.now() + lifetime
    ttl_indexes = [
        index
        for index in session_records().index_information().values()
        if index["key"] == [("expires_at", 1)] and index.get("expireAfterSeconds") == 0
    ]
    assert ttl_indexes


def test_an_expired_record_counts_as_missing(client: Client, logto: OidcProvider) -> None:
    sign_in(client, logto)
    key = session_key(client) or ""
    # The TTL sweep may not have run yet; the app must not wait for it.
    past = timezone.now() - timedelta(seconds=1)
    session_records().update_one({"_id": KEY_PREFIX + key}, {"$set": {"expires_at": past}})
    assert stored_session(key) is None
    assert client.get("/profile")["Location"] == "/sign-in"


def test_mongodb_down_is_503_naming_only_the_store(
    client: Client, logto: OidcProvider, settings: Any
) -> None:
    sign_in(client, logto)
    url = f"mongodb://user:hunter2@127.0.0.1:{free_port()}/app"
    settings.SESSION_STORE = store_at(url)
    pages = (client.get("/"), client.get("/profile"), Client().get("/sign-in"))
    for response in pages:
        assert response.status_code == 503
        assert settings.SESSION_COOKIE_NAME not in response.cookies  # the cookie stays
        page = response.content.decode()
        assert "(MongoDB)" in page
        assert "hunter2" not in page
        assert "127.0.0.1" not in page
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["session_store"] == "MongoDB: down"
    assert Client().get("/").status_code == 200  # anonymous pages need no session


def test_app_recovers_when_mongodb_comes_back(
    client: Client, logto: OidcProvider, settings: Any, tmp_path: Path
) -> None:
    port = free_port()
    storage = str(tmp_path / "db")
    with mongodb_server(port, storage) as url:
        settings.SESSION_STORE = store_at(url)
        sign_in(client, logto)
        assert client.get("/profile").status_code == 200
    assert client.get("/profile").status_code == 503
    assert client.get("/healthz").status_code == 503
    with mongodb_server(port, storage):
        assert client.get("/healthz").status_code == 200
        assert client.get("/profile").status_code == 200  # same session, still signed in


def test_no_503_in_any_thread_once_mongodb_is_back(logto: OidcProvider, tmp_path: Path) -> None:
    port = free_port()
    storage = str(tmp_path / "db")
    with ExitStack() as mongodb_until_restart:
        url = mongodb_until_restart.enter_context(mongodb_server(port, storage))

        def restart() -> None:
            mongodb_until_restart.close()  # every pooled connection drops
            mongodb_until_restart.enter_context(mongodb_server(port, storage))

        assert_no_503_after_restart(logto, {**app_env(), "MONGODB_URL": url}, restart)
