"""The in-process store forgets idle sessions, stays bounded, and warns about several workers."""

import asyncio
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.main import create_app
from {{ cookiecutter.project_slug }}.sessions import MemorySessionStore, requested_workers

from .conftest import BASE_URL, make_settings
from .flow import sign_in
from .oidc_provider import OidcProvider


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_record_expires_ttl_seconds_after_its_last_save_or_touch() -> None:
    clock = Clock()
    store = MemorySessionStore(max_entries=10, clock=clock)
    asyncio.run(store.save("id", b"data", ttl=60, signed_in=True))
    clock.now += 59
    stored = asyncio.run(store.load("id"))
    assert stored is not None
    assert (stored.data, stored.expires_in) == (b"data", 1)
    asyncio.run(store.touch("id", ttl=60))
    clock.now += 59
    assert asyncio.run(store.load("id")) is not None
    clock.now += 1
    assert asyncio.run(store.load("id")) is None
    assert set(store) == set()


def test_store_drops_the_oldest_record_when_full() -> None:
    store = MemorySessionStore(max_entries=2)
    for session_id in ("first", "second", "third"):
        asyncio.run(store.save(session_id, b"data", ttl=60, signed_in=True))
    assert set(store) == {"second", "third"}


def test_idle_session_expires_after_session_lifetime(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    settings = make_settings(store_settings, logto_endpoint=provider.endpoint, session_lifetime=60)
    app = create_app(settings)
    store: MemorySessionStore = app.state.session_store
    clock = Clock()
    store.clock = clock
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        sign_in(client, provider)
        clock.now += 59
        assert client.get("/profile").status_code == 200  # a request that uses it extends it
        clock.now += 59
        assert client.get("/profile").status_code == 200
        clock.now += 60
        assert client.get("/profile").headers["location"] == "/sign-in"
    assert len(store) == 0


def test_store_keeps_at_most_max_entries_sessions(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    settings = make_settings(
        store_settings, logto_endpoint=provider.endpoint, session_memory_max_entries=2
    )
    app = create_app(settings)
    clients = [TestClient(app, base_url=BASE_URL, follow_redirects=False) for _ in range(3)]
    for client in clients:
        sign_in(client, provider)
    assert len(app.state.session_store) == 2
    assert clients[0].get("/profile").headers["location"] == "/sign-in"
    assert [client.get("/profile").status_code for client in clients[1:]] == [200, 200]


@pytest.mark.parametrize(
    ("argv", "environ", "workers"),
    [
        (["uvicorn", "app.main:app"], {}, 1),
        (["uvicorn", "app.main:app", "--workers", "4"], {}, 4),
        (["uvicorn", "app.main:app", "--workers=3"], {}, 3),
        (["gunicorn", "-w", "2", "app.main:app"], {}, 2),
        (["uvicorn", "app.main:app"], {"WEB_CONCURRENCY": "5"}, 5),
    ],
)
def test_requested_workers(argv: list[str], environ: dict[str, str], workers: int) -> None:
    assert requested_workers(argv, environ) == workers


def test_several_workers_are_warned_about(
    store_settings: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with caplog.at_level(logging.WARNING), TestClient(create_app(make_settings(store_settings))):
        pass
    assert "4 workers share no memory" in caplog.text


def test_one_worker_is_not_warned_about(
    store_settings: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    with caplog.at_level(logging.WARNING), TestClient(create_app(make_settings(store_settings))):
        pass
    assert "workers share no memory" not in caplog.text


def test_a_flood_of_sign_ins_never_pushes_out_a_signed_in_session(
    provider: OidcProvider, store_settings: dict[str, Any]
) -> None:
    settings = make_settings(
        store_settings, logto_endpoint=provider.endpoint, session_memory_max_entries=20
    )
    app = create_app(settings)
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as alice:
        sign_in(alice, provider, sub="alice")
        for _ in range(50):  # a bound of 2 sign-ins under way, many times over
            with TestClient(app, base_url=BASE_URL, follow_redirects=False) as anonymous:
                assert anonymous.get("/sign-in").status_code == 302
        assert alice.get("/profile").status_code == 200
    assert len(app.state.session_store) <= 1 + 2


def test_sign_ins_under_way_are_bounded_apart_oldest_out_first() -> None:
    store = MemorySessionStore(max_entries=20)
    for session_id in ("signed-in", "first", "second", "third"):
        asyncio.run(store.save(session_id, b"data", ttl=60, signed_in=session_id == "signed-in"))
    assert set(store) == {"signed-in", "second", "third"}
    # Signed in, a sign-in leaves the bounded few for the sessions.
    asyncio.run(store.save("second", b"signed in", ttl=60, signed_in=True))
    assert set(store) == {"signed-in", "second", "third"}
    assert asyncio.run(store.load("second")) is not None
