"""The memory store forgets sessions after SESSION_LIFETIME and keeps at most a bounded number."""

import time
from typing import Any

import pytest
from django.test import Client

from config import sessions

from .conftest import session_key, sign_in, stored_session
from .oidc_provider import OidcProvider


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


def test_store_keeps_at_most_max_entries(
    logto: OidcProvider, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSION_MEMORY_MAX_ENTRIES", "5")
    caches = sessions.store(lifetime=60, key_prefix="bounded:")["CACHES"]
    caches["sessions"]["LOCATION"] = "bounded-test"
    settings.CACHES = caches

    browsers = [Client() for _ in range(12)]
    for browser in browsers:
        assert browser.get("/sign-in").status_code == 302
    kept = [browser for browser in browsers if stored_session(session_key(browser) or "")]
    assert 0 < len(kept) <= 5
    assert browsers[-1] in kept  # the newest session is never the one to go
