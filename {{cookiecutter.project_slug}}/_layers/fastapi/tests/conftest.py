"""One OpenID Connect provider and one session store per test run; a fresh app per test."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.config import Settings
from {{ cookiecutter.project_slug }}.main import create_app

from .flow import sign_in
from .oidc_provider import OidcProvider
from .store import running_store

BASE_URL = "http://127.0.0.1:8000"


@pytest.fixture(scope="session")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider.run() as provider:
        yield provider


@pytest.fixture(scope="session")
def store_settings() -> Iterator[dict[str, Any]]:
    """This backend's settings for a store that lives as long as the test run."""
    with running_store() as settings:
        yield settings


def make_settings(store_settings: dict[str, Any], **overrides: Any) -> Settings:
    """Settings from the arguments only, so that the project's `.env` cannot leak in."""
    values = {
        "base_url": BASE_URL,
        "session_secret": "test-secret-" + "x" * 32,
        "logto_app_id": "test-app",
        "logto_app_secret": "test-app-secret",
        **store_settings,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextmanager
def signed_in_client(
    provider: OidcProvider,
    store_settings: dict[str, Any],
    sub: str = "alice",
    claims: dict[str, Any] | None = None,
    **overrides: Any,
) -> Iterator[TestClient]:
    """A browser signed in as `sub` (with `claims` at the provider) on an app of its own,
    made with the settings `overrides`."""
    settings = make_settings(store_settings, logto_endpoint=provider.endpoint, **overrides)
    with TestClient(create_app(settings), base_url=BASE_URL, follow_redirects=False) as client:
        assert sign_in(client, provider, sub=sub, **(claims or {})).status_code == 302
        yield client


@pytest.fixture
def settings(provider: OidcProvider, store_settings: dict[str, Any]) -> Settings:
    return make_settings(store_settings, logto_endpoint=provider.endpoint)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        yield client


@pytest.fixture
def other_client(app: FastAPI, client: TestClient) -> TestClient:
    """A second browser on the app that `client` has started.

    It runs on `client`'s event loop, to which the store's connections belong.
    """
    other = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    other.portal = client.portal
    return other
