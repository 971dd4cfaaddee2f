"""MongoDB session documents expire, and MongoDB outages give 503 pages until it is back."""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pymongo import MongoClient, monitoring

from {{ cookiecutter.project_slug }}.main import create_app
from {{ cookiecutter.project_slug }}.sessions import COLLECTION, DEFAULT_DATABASE

from .conftest import BASE_URL, make_settings, signed_in_client
from .flow import sign_in, status_codes_at_once
from .helpers import closed_port, wait_for
from .oidc_provider import OidcProvider
from .store import SecantusProcess, stored_documents


def test_session_document_holds_its_absolute_expiry_under_a_ttl_index(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    settings = make_settings(store_settings, logto_endpoint=provider.endpoint, session_lifetime=600)
    app = create_app(settings)
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        started = datetime.now(UTC)
        callback = sign_in(client, provider)
        assert "Max-Age=600" in callback.headers["set-cookie"].title()
        document = stored_documents(app)[client.cookies["session"]]
    assert document["_id"] == settings.session_key_prefix + client.cookies["session"]
    expires_in = document["expires_at"] - started
    assert timedelta(seconds=590) < expires_in <= timedelta(seconds=601)

    with MongoClient(settings.mongodb_url) as mongo:
        indexes = mongo.get_default_database(DEFAULT_DATABASE)[COLLECTION].index_information()
    ttl_indexes = [index for index in indexes.values() if "expireAfterSeconds" in index]
    assert ttl_indexes == [{"v": 2, "key": [("expires_at", 1)], "expireAfterSeconds": 0}]


def test_expired_document_counts_as_missing_before_mongodb_deletes_it(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    settings = make_settings(store_settings, logto_endpoint=provider.endpoint)
    app = create_app(settings)
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        sign_in(client, provider)
        assert client.get("/profile").status_code == 200
        with MongoClient(settings.mongodb_url) as mongo:
            sessions = mongo.get_default_database(DEFAULT_DATABASE)[COLLECTION]
            key = settings.session_key_prefix + client.cookies["session"]
            past = datetime.now(UTC) - timedelta(seconds=1)
            sessions.update_one({"_id": key}, {"$set": {"expires_at": past}})
        assert client.get("/profile").headers["location"] == "/sign-in"


@pytest.fixture
def client_without_mongodb(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> Iterator[TestClient]:
    url = f"mongodb://user:hunter2@127.0.0.1:{closed_port()}/app"
    settings = make_settings(store_settings, logto_endpoint=provider.endpoint, mongodb_url=url)
    with TestClient(create_app(settings), base_url=BASE_URL, follow_redirects=False) as client:
        yield client


def test_unreachable_mongodb_is_a_503_page_naming_mongodb_only(
    client_without_mongodb: TestClient,
) -> None:
    client_without_mongodb.cookies.set("session", "0" * 32, domain="127.0.0.1")
    response = client_without_mongodb.get("/profile")
    assert response.status_code == 503
    assert "MongoDB" in response.text
    assert "hunter2" not in response.text
    assert "127.0.0.1" not in response.text


def test_new_session_that_cannot_be_saved_is_a_503_page(
    client_without_mongodb: TestClient,
) -> None:
    assert client_without_mongodb.get("/").status_code == 200
    response = client_without_mongodb.get("/sign-in")
    assert response.status_code == 503
    assert "set-cookie" not in response.headers


def test_healthz_reports_mongodb_down(client_without_mongodb: TestClient) -> None:
    response = client_without_mongodb.get("/healthz")
    assert response.status_code == 503
    assert response.json()["session_store"] == "MongoDB: down"


def test_app_recovers_when_mongodb_comes_back(
    provider: OidcProvider, store_settings: dict[str, Any], tmp_path: Path
) -> None:
    mongodb = SecantusProcess(closed_port(), storage_path=str(tmp_path))
    mongodb.start()
    try:
        with signed_in_client(provider, store_settings, mongodb_url=mongodb.url) as client:
            assert client.get("/profile").status_code == 200

            mongodb.stop()
            assert client.get("/healthz").status_code == 503
            down = client.get("/profile")
            assert down.status_code == 503
            assert "set-cookie" not in down.headers

            mongodb.start()
            wait_for(lambda: client.get("/healthz").status_code == 200, "healthy again")
            assert client.get("/profile").status_code == 200  # the same session, not lost
    finally:
        mongodb.stop()


def test_requests_right_after_mongodb_restarts_all_succeed(
    provider: OidcProvider, store_settings: dict[str, Any], tmp_path: Path
) -> None:
    mongodb = SecantusProcess(closed_port(), storage_path=str(tmp_path))
    mongodb.start()
    try:
        with signed_in_client(provider, store_settings, mongodb_url=mongodb.url) as client:
            assert set(status_codes_at_once(client, "/profile")) == {200}  # pooled connections

            mongodb.stop()  # every pooled connection is dropped
            mongodb.start()
            assert status_codes_at_once(client, "/profile") == [200] * 8
    finally:
        mongodb.stop()


class SessionCommands(monitoring.CommandListener):
    """The commands sent on the sessions collection by every client made since registered."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command.get(event.command_name) == COLLECTION:
            self.sent[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


session_commands = SessionCommands()
monitoring.register(session_commands)


def test_unchanged_signed_in_page_is_one_find_and_a_slide_one_expiry_update(
    app: FastAPI, client: TestClient, provider: OidcProvider
) -> None:
    sign_in(client, provider)
    session_commands.sent.clear()
    assert client.get("/").status_code == 200
    assert session_commands.sent == Counter(find=1)

    # As if 11% of the lifetime had passed since the session was last saved.
    lifetime = app.state.settings.session_lifetime
    session_id = client.cookies["session"]
    assert client.portal is not None
    client.portal.call(app.state.session_store.touch, session_id, int(lifetime * 0.89))
    before = stored_documents(app)[session_id]
    session_commands.sent.clear()
    assert client.get("/").status_code == 200
    assert session_commands.sent == Counter(find=1, update=1)
    after = stored_documents(app)[session_id]
    assert after["expires_at"] > before["expires_at"]
    assert after["data"] == before["data"]
