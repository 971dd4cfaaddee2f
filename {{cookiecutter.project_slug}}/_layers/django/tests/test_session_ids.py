"""A session cookie names a session only when it is an id the app makes: any other value is
no cookie at all (no store access), and a stored session that cannot be read is signed out."""

import logging
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.test import Client
from django.utils.crypto import get_random_string

from {{ cookiecutter.project_slug }}.session_engine import SESSION_ID
from {{ cookiecutter.project_slug }}.session_index import record_id

from .conftest import sign_in, stored_session
from .oidc_provider import OidcProvider
from .store import store_traffic, store_unreadable_session

NOT_SESSION_IDS = {
    "provider-session": "provider-session:x",
    "index": "index:sub:alice",
    "logout-token": "logout-token:x",
    "path": "../x",
    "long": "x" * 4000,
    "one short": "a" * 31,
    "capitals": "A" * 32,
}


def assert_anonymous(client: Client) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert "You are not signed in." in home.content.decode()
    assert client.get("/profile")["Location"] == "/sign-in"


@pytest.mark.parametrize("value", NOT_SESSION_IDS.values(), ids=NOT_SESSION_IDS.keys())
def test_a_cookie_that_is_no_session_id_is_no_cookie(
    client: Client, logto: OidcProvider, value: str
) -> None:
    client.cookies[settings.SESSION_COOKIE_NAME] = value
    with store_traffic() as traffic:
        assert_anonymous(client)
    assert traffic.reads == traffic.writes == traffic.touches == 0
    assert client.get("/healthz").status_code == 200


def test_no_cookie_can_name_an_index_record(client: Client, logto: OidcProvider) -> None:
    sign_in(client, logto, sub="alice-of-the-index")
    index_record = record_id("sub", "alice-of-the-index")
    assert stored_session(index_record) is not None
    assert not SESSION_ID.fullmatch(index_record)
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = index_record
    with store_traffic() as traffic:
        assert_anonymous(browser)
    assert traffic.reads == 0


def test_the_app_makes_only_ids_of_its_own_format() -> None:
    engine = import_module(settings.SESSION_ENGINE)
    for _ in range(20):
        assert SESSION_ID.fullmatch(engine.SessionStore()._get_new_session_key())


def test_a_stored_session_that_cannot_be_read_is_signed_out(
    client: Client, logto: OidcProvider, caplog: pytest.LogCaptureFixture
) -> None:
    key = get_random_string(32, VALID_KEY_CHARS)
    store_unreadable_session(key)
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    with caplog.at_level(logging.WARNING):
        home = client.get("/")
    assert home.status_code == 200
    assert "You are not signed in." in home.content.decode()
    assert len([record for record in caplog.records if record.levelno == logging.WARNING]) == 1
    assert client.get("/profile")["Location"] == "/sign-in"
    assert client.get("/healthz").status_code == 200
