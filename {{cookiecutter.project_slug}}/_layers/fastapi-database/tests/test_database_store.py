"""Sessions in a SQL database: one row per session with an indexed expiry, expired rows read as
missing and deleted, and a database that is down gives 503 pages until it is back."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.main import create_app
from {{ cookiecutter.project_slug }}.sessions import sessions_table

from .conftest import BASE_URL, make_settings, signed_in_client
from .flow import sign_in, status_codes_at_once
from .helpers import closed_port
from .oidc_provider import OidcProvider
from .store import database, postgresql_server, stored_rows, stored_session_ids


def expire(app: FastAPI, session_id: str) -> None:
    """Move a session's expiry into the past, as time would."""
    update = (
        sa.update(sessions_table)
        .where(sessions_table.c.id == app.state.settings.session_key_prefix + session_id)
        .values(expires_at=time.time() - 1)
    )
    with database(app) as connection:
        connection.execute(update)


def test_session_row_has_the_prefixed_id_and_an_indexed_expiry(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    settings = make_settings(store_settings, logto_endpoint=provider.endpoint, session_lifetime=600)
    app = create_app(settings)
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        callback = sign_in(client, provider)
        assert "Max-Age=600" in callback.headers["set-cookie"].title()
        row = stored_rows(app)[client.cookies["session"]]
    assert row.id == settings.session_key_prefix + client.cookies["session"]
    assert 0 < row.expires_at - time.time() <= 600
    with database(app) as connection:
        indexes = sa.inspect(connection).get_indexes(sessions_table.name)
    assert [index["column_names"] for index in indexes] == [["expires_at"]]


def test_expired_session_reads_as_missing(
    app: FastAPI, client: TestClient, provider: OidcProvider
) -> None:
    sign_in(client, provider)
    session_id = client.cookies["session"]
    expire(app, session_id)
    assert client.get("/profile").headers["location"] == "/sign-in"
    assert stored_rows(app)[session_id].expires_at < time.time()  # not revived


def test_a_process_deletes_expired_rows_now_and_then_as_it_saves(
    app: FastAPI, client: TestClient, other_client: TestClient, provider: OidcProvider
) -> None:
    sign_in(client, provider)
    expired = client.cookies["session"]
    expire(app, expired)
    sign_in(other_client, provider, sub="bob")
    assert expired in stored_session_ids(app)  # not yet: once per CLEANUP_INTERVAL
    app.state.session_store.next_cleanup = 0
    other_client.get("/sign-in")  # saves a session
    assert expired not in stored_session_ids(app)
    assert other_client.cookies["session"] in stored_session_ids(app)


def unreachable_database(tmp_path: Path) -> str:
    """A database URL the app cannot open: a closed port, or a SQLite "file" that is a folder."""
    if postgresql_server() is None:
        return f"sqlite:///{tmp_path}"
    return f"postgresql://user:hunter2@127.0.0.1:{closed_port()}/sessions"


@pytest.fixture
def client_without_database(
    provider: OidcProvider, store_settings: dict[str, Any], tmp_path: Path
) -> Iterator[TestClient]:
    url = unreachable_database(tmp_path)
    settings = make_settings(store_settings, logto_endpoint=provider.endpoint, database_url=url)
    with TestClient(create_app(settings), base_url=BASE_URL, follow_redirects=False) as client:
        yield client


def test_unreachable_database_is_a_503_page_naming_the_database_only(
    client_without_database: TestClient, tmp_path: Path
) -> None:
    client_without_database.cookies.set("session", "0" * 32, domain="127.0.0.1")
    for path in ("/", "/sign-in", "/profile"):
        response = client_without_database.get(path)
        assert response.status_code == 503, path
        assert "database session store is unavailable" in response.text
        assert "hunter2" not in response.text
        assert "127.0.0.1" not in response.text
        assert str(tmp_path) not in response.text


def test_anonymous_home_needs_no_database(client_without_database: TestClient) -> None:
    assert client_without_database.get("/").status_code == 200


def test_new_session_that_cannot_be_saved_is_a_503_page(
    client_without_database: TestClient,
) -> None:
    response = client_without_database.get("/sign-in")
    assert response.status_code == 503
    assert "set-cookie" not in response.headers


def test_healthz_reports_the_database_down(client_without_database: TestClient) -> None:
    response = client_without_database.get("/healthz")
    assert response.status_code == 503
    assert response.json()["session_store"] == "SQL database: down"


class DatabaseProxy:
    """A port of 127.0.0.1 that forwards to the PostgreSQL server; stopping it is the database
    going down for the app behind it (new connections refused, open ones cut)."""

    def __init__(self, server: sa.URL) -> None:
        self.port = closed_port()
        self.server = (server.host or "127.0.0.1", server.port or 5432)
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            upstream = socket.create_connection(self.server)
            self.connections += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=_forward, args=(source, target), daemon=True).start()

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for connection in self.connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self.connections = []


def _forward(source: socket.socket, target: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@pytest.fixture
def proxy(store_settings: dict[str, Any]) -> Iterator[DatabaseProxy]:
    """A proxy in front of this run's PostgreSQL database, to cut and restore."""
    if (server := postgresql_server()) is None:
        pytest.skip("a SQLite file does not go down; run with DATABASE_URL=postgresql://...")
    proxy = DatabaseProxy(server)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


@contextmanager
def signed_in_through(
    proxy: DatabaseProxy, provider: OidcProvider, store_settings: dict[str, Any]
) -> Iterator[TestClient]:
    """A signed-in browser on an app that reaches this run's database through `proxy`."""
    proxied = sa.make_url(store_settings["database_url"]).set(host="127.0.0.1", port=proxy.port)
    database_url = proxied.render_as_string(hide_password=False)
    with signed_in_client(provider, store_settings, database_url=database_url) as client:
        yield client


def test_app_recovers_when_the_database_comes_back(
    proxy: DatabaseProxy, provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    with signed_in_through(proxy, provider, store_settings) as client:
        assert client.get("/profile").status_code == 200

        proxy.stop()
        assert client.get("/healthz").status_code == 503
        down = client.get("/profile")
        assert down.status_code == 503
        assert "set-cookie" not in down.headers

        proxy.start()
        assert client.get("/healthz").status_code == 200
        assert client.get("/profile").status_code == 200  # the same session, not lost


def test_requests_right_after_the_database_comes_back_all_succeed(
    proxy: DatabaseProxy, provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    with signed_in_through(proxy, provider, store_settings) as client:
        assert set(status_codes_at_once(client, "/profile")) == {200}  # pooled connections

        proxy.stop()  # every pooled connection is cut
        proxy.start()
        assert status_codes_at_once(client, "/profile") == [200] * 8


@pytest.fixture
def statements(app: FastAPI, client: TestClient) -> list[str]:
    """The SQL statements the app sends to the database, as it sends them."""
    sent: list[str] = []
    engine = app.state.session_store.engine.sync_engine

    def record(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    return sent


def test_unchanged_signed_in_page_is_one_select_and_a_slide_one_expiry_update(
    app: FastAPI, client: TestClient, provider: OidcProvider, statements: list[str]
) -> None:
    sign_in(client, provider)
    statements.clear()
    client.get("/")
    assert len(statements) == 1
    assert statements[0].startswith("SELECT sessions.data, sessions.expires_at FROM sessions")

    lifetime = app.state.settings.session_lifetime
    assert client.portal is not None
    client.portal.call(
        app.state.session_store.touch, client.cookies["session"], int(lifetime * 0.89)
    )
    statements.clear()
    client.get("/")
    assert len(statements) == 2
    assert statements[1].startswith("UPDATE sessions SET expires_at=")
    assert "data" not in statements[1]
