"""The memory store forgets sessions after SESSION_LIFETIME and keeps at most a bounded number."""

import os
import subprocess
import sys
import time
from typing import Any

import pytest
from django.test import Client

from config import sessions

from .conftest import session_key, sign_in, stored_session
from .oidc_provider import OidcProvider
from .servers import PROJECT_DIR
from .store import stored_session_count


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


def test_store_keeps_the_newest_max_entries(
    logto: OidcProvider, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSION_MEMORY_MAX_ENTRIES", "5")
    settings.SESSION_STORE = sessions.store(lifetime=60, key_prefix="bounded:")
    assert stored_session_count() == 0  # a store of its own, for its own bound

    browsers = [Client() for _ in range(12)]
    for browser in browsers:
        assert browser.get("/sign-in").status_code == 302
    kept = [browser for browser in browsers if stored_session(session_key(browser) or "")]
    assert kept == browsers[-5:]
    assert stored_session_count() == 5


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
