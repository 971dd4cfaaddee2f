"""Fixtures: a real OpenID Connect provider and the session store, once per test session."""

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from {{ cookiecutter.project_slug }}.app import create_app
from {{ cookiecutter.project_slug }}.settings import Settings

from .oidc_provider import OidcProvider
from .servers import SECRET
from .store import running_store

BASE_URL = "http://127.0.0.1:8000"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class BrowserClient(FlaskClient):
    """A test client at BASE_URL, where the provider sends the browser back to."""

    def open(self, *args, **kwargs) -> TestResponse:  # type: ignore[override]
        kwargs.setdefault("base_url", BASE_URL)
        return super().open(*args, **kwargs)

    def session_transaction(self, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("base_url", BASE_URL)
        return super().session_transaction(*args, **kwargs)


@pytest.fixture(scope="session")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider.run() as provider:
        yield provider


@pytest.fixture(scope="session")
def store_settings() -> Iterator[dict[str, object]]:
    """The settings that point the app at the session store the tests use."""
    with running_store() as overrides:
        yield overrides


@pytest.fixture
def settings(provider: OidcProvider, store_settings: dict[str, object]) -> Settings:
    run_prefix = store_settings.get("session_key_prefix", Settings.session_key_prefix)
    return Settings(
        base_url=BASE_URL,
        session_secret=SECRET,
        logto_endpoint=provider.endpoint,
        logto_app_id="test-app",
        logto_app_secret="test-app-secret",
        **{
            **store_settings,
            # Each test sees only its own sessions in a store that outlives it.
            "session_key_prefix": f"{run_prefix}{uuid.uuid4().hex[:12]}:",
        },  # type: ignore[arg-type]
    )


def make_app(settings: Settings, **changes: object) -> Flask:
    app = create_app(replace(settings, **changes))  # type: ignore[arg-type]
    app.test_client_class = BrowserClient
    return app


@pytest.fixture
def app(settings: Settings) -> Flask:
    return make_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, provider: OidcProvider, sub: str = "alice", **claims: object):
    """Run the authorization-code flow: the app, the provider's login form, the callback."""
    started = client.get("/sign-in")
    assert started.status_code == 302, started.text
    callback_url = provider.authorize(started.location, sub=sub, **claims)
    finished = client.get(callback_url)
    assert finished.status_code == 302, finished.text
    return finished


def csrf_token_of(page: TestResponse) -> str:
    match = CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


def store_a_session(client: FlaskClient) -> str:
    """Store a session of `client`'s (not signed in); its id."""
    with client.session_transaction() as session:
        session["visited"] = True
    sid = session_id(client)
    assert sid is not None
    return sid


def session_id(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("session", domain="127.0.0.1")
    return None if cookie is None else cookie.value
