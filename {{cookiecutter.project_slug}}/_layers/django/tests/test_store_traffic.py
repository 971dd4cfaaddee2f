"""Store traffic: a signed-in page reads its session once and writes nothing, while the
session's expiry still slides, now and then, by an expiry-only write."""

from datetime import datetime
from importlib import import_module
from typing import Any

from django.conf import settings
from django.test import Client

from .conftest import session_key, sign_in
from .oidc_provider import OidcProvider
from .store import store_traffic


def stored_until(key: str) -> datetime:
    """When the store lets the session `key` expire."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(key)
    session.load()
    assert session.stored_until is not None
    return session.stored_until


def test_an_anonymous_page_touches_no_store(client: Client) -> None:
    with store_traffic() as traffic:
        response = client.get("/")
    assert response.status_code == 200
    assert traffic.reads == traffic.writes == traffic.touches == 0
    assert not response.cookies


def test_an_unchanged_signed_in_page_reads_once_and_writes_nothing(
    client: Client, logto: OidcProvider
) -> None:
    sign_in(client, logto, name="Alice")
    for page in ("/", "/profile", "/"):
        with store_traffic() as traffic:
            response = client.get(page)
        assert "Alice" in response.content.decode()
        assert (traffic.reads, traffic.writes, traffic.touches) == (1, 0, 0), page
        assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_the_expiry_slides_by_an_expiry_only_write_now_and_then(
    client: Client, logto: OidcProvider, settings: Any
) -> None:
    sign_in(client, logto, name="Alice")
    key = session_key(client) or ""
    first_until = stored_until(key)
    # A lifetime twice as long: the session now looks pushed back half a lifetime ago.
    settings.SESSION_COOKIE_AGE *= 2
    with store_traffic() as traffic:
        response = client.get("/")
    assert "Alice" in response.content.decode()
    assert (traffic.reads, traffic.writes) == (1, 0)
    assert traffic.touches >= 1
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value == key
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE  # the cookie slides along
    assert stored_until(key) > first_until

    with store_traffic() as traffic:  # pushed back just now: not again
        response = client.get("/")
    assert (traffic.reads, traffic.writes, traffic.touches) == (1, 0, 0)
    assert settings.SESSION_COOKIE_NAME not in response.cookies
