"""Fixtures: a real OpenID Connect provider for the session, an app pointed at it."""

import re
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client

from {{ cookiecutter.project_slug }} import session_index

from .oidc_provider import OidcProvider
from .store import session_store  # noqa: F401 (an autouse fixture of this backend)

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="session")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider.run() as provider:
        yield provider


@pytest.fixture
def logto(settings: Any, provider: OidcProvider) -> OidcProvider:
    """The app's Logto settings point at the test provider."""
    settings.LOGTO_ENDPOINT = provider.endpoint
    settings.LOGTO_APP_ID = "test-app"
    settings.LOGTO_APP_SECRET = "test-secret"
    return provider


@pytest.fixture
def client() -> Client:
    """A browser that checks CSRF tokens as the real one would have to."""
    return Client(enforce_csrf_checks=True)


def session_key(client: Client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie and cookie.value else None


def stored_session(key: str) -> SessionBase | None:
    """The record the store holds under `key`, read through the session engine itself."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(key)
    return session if session.exists(key) else None


def indexed_sessions(sub: str) -> list[str]:
    """The session ids that the logout index lists for the user `sub`."""
    entry = stored_session(session_index.record_id("sub", sub))
    return [] if entry is None else entry[session_index.SESSIONS]


def sign_in(client: Client, provider: OidcProvider, **claims: Any) -> str:
    """Sign in over HTTP at the provider; returns where the callback redirects to."""
    response = client.get("/sign-in")
    assert response.status_code == 302, response.content
    callback_url = provider.authorize(response["Location"], **{"name": "Alice", **claims})
    response = client.get(callback_url)
    assert response.status_code == 302, response.content
    return response["Location"]


def csrf_token(client: Client) -> str:
    match = CSRF_FIELD.search(client.get("/profile").content.decode())
    assert match, "the signed-in page has no sign-out form"
    return match.group(1)
