"""The memory store forgets sessions after SESSION_LIFETIME and keeps at most a bounded number."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from config import sessions

from .conftest import session_key, sign_in, stored_session
from .oidc_provider import OidcProvider
from .servers import PROJECT_DIR
from .store import Entry, MemoryStore, stored_session_count


def test_session_expires_after_its_lifetime(
    client: Client, logto: OidcProvider, settings: Any
) -> None:
    settings.SESSION_COOKIE_AGE = 1
    sign_in(client, logto)
    key = session_key(client)
    assert key and stored_session(key) is not None
    time.sleep(1.5)
    assert stored_session(key) is None
    assert client.get("/profile")["Location"] == "/sign-in"


def test_store_keeps_the_newest_max_entries() -> None:
    store = MemoryStore(max_entries=5)
    until = datetime.now(UTC) + timedelta(hours=1)
    for number in range(12):
        assert store.put(f"key{number}", Entry(b"", until), create=True)
    assert list(store.entries) == [f"key{number}" for number in range(7, 12)]


def test_a_flood_of_sign_ins_evicts_no_signed_in_session(
    logto: OidcProvider, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSION_MEMORY_MAX_ENTRIES", "20")
    settings.SESSION_STORE = sessions.store(lifetime=60, key_prefix="bounded:")
    assert stored_session_count() == 0  # a store of its own, for its own bound
    alice = Client()
    sign_in(alice, logto, name="Alice")

    browsers = [Client() for _ in range(30)]
    for browser in browsers:
        assert browser.get("/sign-in").status_code == 302
    kept = [browser for browser in browsers if stored_session(session_key(browser) or "")]
    assert kept == browsers[-2:]  # a tenth of the bound, the newest
    assert "Alice" in alice.get("/").content.decode()
    assert alice.get("/profile").status_code == 200


def test_a_store_full_of_signed_in_sessions_still_lets_someone_sign_in() -> None:
    store = MemoryStore(max_entries=10)
    until = datetime.now(UTC) + timedelta(hours=1)
    for number in range(10):
        store.put(f"signed-in-{number}", Entry(b"", until), create=True)
    store.put("signing-in", Entry(b"", until), create=True, unfinished=True)
    assert "signing-in" in store.entries  # kept within the bound of unfinished sign-ins
    store.put("signing-in", Entry(b"", until), create=False)  # the callback finished it
    assert list(store.entries) == [f"signed-in-{number}" for number in range(1, 10)] + [
        "signing-in"
    ]


def test_a_full_store_lets_the_next_person_sign_in(
    logto: OidcProvider, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSION_MEMORY_MAX_ENTRIES", "10")
    settings.SESSION_STORE = sessions.store(lifetime=60, key_prefix="full:")
    for number in range(12):
        browser = Client()
        sign_in(browser, logto, sub=f"user-{number}")
        assert browser.get("/profile").status_code == 200


@pytest.mark.parametrize("value", ["0", "-3", "many", "1e4"])
def test_a_bad_bound_is_refused_in_one_line(value: str) -> None:
    command = [sys.executable, "manage.py", "check"]
    env = {**os.environ, "SESSION_MEMORY_MAX_ENTRIES": value}
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert f"SESSION_MEMORY_MAX_ENTRIES must be a positive whole number, not {value!r}." in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("argv", "env", "workers"),
    [
        (["manage.py", "runserver"], {}, 1),
        (["manage.py", "runserver", "-w", "4"], {}, 1),
        (["/venv/bin/gunicorn", "config.asgi:application", "-w", "4"], {}, 4),
        (["/venv/bin/gunicorn", "config.asgi:application"], {"WEB_CONCURRENCY": "3"}, 3),
        (["/venv/bin/gunicorn", "app"], {"GUNICORN_CMD_ARGS": "--workers=2"}, 2),
        (["/venv/lib/uvicorn/__main__.py", "config.asgi:application", "--workers", "5"], {}, 5),
    ],
)
def test_worker_count_is_read_where_it_shows(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], env: dict[str, str], workers: int
) -> None:
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert sessions.worker_count() == workers


def test_several_workers_are_warned_about() -> None:
    def check(**env: str) -> str:
        command = [sys.executable, "manage.py", "check"]
        result = subprocess.run(
            command, cwd=PROJECT_DIR, env={**os.environ, **env}, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stderr

    assert "worker processes" not in check(WEB_CONCURRENCY="1")
    assert "Sessions are kept in memory, but 4 worker processes" in check(WEB_CONCURRENCY="4")
