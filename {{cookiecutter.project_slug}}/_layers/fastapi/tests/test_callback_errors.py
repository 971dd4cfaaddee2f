"""Callbacks that must not sign anyone in, and a Logto that is missing or unreachable."""

import socket
from contextlib import ExitStack
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }} import deadlines
from {{ cookiecutter.project_slug }}.main import create_app

from .conftest import BASE_URL, make_settings
from .flow import sign_in
from .helpers import closed_port
from .oidc_provider import OidcProvider
from .store import stored_session_ids


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


def start_sign_in(client: TestClient, provider: OidcProvider) -> str:
    """Sign in at the provider; returns the callback URL the browser has not followed yet."""
    location = client.get("/sign-in").headers["location"]
    return provider.authorize(location, sub="mallory")


def assert_not_signed_in(client: TestClient) -> None:
    assert client.get("/profile").headers.get("location") == "/sign-in"


def test_wrong_state_is_refused(app: FastAPI, client: TestClient, provider: OidcProvider) -> None:
    callback_url = start_sign_in(client, provider)
    stored = stored_session_ids(app)
    response = client.get(with_query(callback_url, state="forged"))
    assert response.status_code == 400
    assert "could not be completed" in response.text
    assert stored_session_ids(app) == stored
    assert_not_signed_in(client)


def test_missing_state_is_refused(client: TestClient, provider: OidcProvider) -> None:
    callback_url = start_sign_in(client, provider)
    parts = urlsplit(callback_url)
    code = parse_qs(parts.query)["code"][0]
    assert client.get("/callback", params={"code": code}).status_code == 400
    assert_not_signed_in(client)


@pytest.mark.parametrize(
    "query",
    [
        {"code": "made-up", "state": "made-up"},
        {"error": "access_denied", "state": "made-up"},
        {},
    ],
    ids=["code", "error", "nothing"],
)
def test_callback_without_a_sign_in_session_is_refused_and_stores_nothing(
    app: FastAPI, client: TestClient, query: dict[str, str]
) -> None:
    before = stored_session_ids(app)
    response = client.get("/callback", params=query)
    assert response.status_code == 400
    assert "set-cookie" not in response.headers
    assert stored_session_ids(app) == before


def test_error_from_the_provider_is_refused(client: TestClient, provider: OidcProvider) -> None:
    callback_url = start_sign_in(client, provider)
    state = parse_qs(urlsplit(callback_url).query)["state"][0]
    response = client.get("/callback", params={"error": "access_denied", "state": state})
    assert response.status_code == 400
    assert "Logto did not sign you in (access_denied)" in response.text
    assert "Traceback" not in response.text
    assert_not_signed_in(client)


def test_replayed_code_is_refused(client: TestClient, provider: OidcProvider) -> None:
    callback_url = start_sign_in(client, provider)
    assert client.get(callback_url).status_code == 302
    assert client.get(callback_url).status_code == 400
    client.cookies.clear()
    assert client.get(callback_url).status_code == 400


def test_unreachable_logto_is_a_502_page(store_settings: dict) -> None:
    settings = make_settings(store_settings, logto_endpoint=f"http://127.0.0.1:{closed_port()}")
    with TestClient(create_app(settings), base_url=BASE_URL, follow_redirects=False) as client:
        response = client.get("/sign-in")
        assert response.status_code == 502
        assert "Logto cannot be reached" in response.text
        assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("unset", "names"),
    [
        (("logto_endpoint", "logto_app_id"), "LOGTO_ENDPOINT, LOGTO_APP_ID"),
        (("logto_app_secret",), "LOGTO_APP_SECRET"),
    ],
)
@pytest.mark.parametrize("path", ["/sign-in", "/callback", "/profile"])
def test_missing_logto_settings_are_named_on_a_503_page(
    store_settings: dict, unset: tuple[str, ...], names: str, path: str
) -> None:
    configured = {"logto_endpoint": f"http://127.0.0.1:{closed_port()}"}
    settings = make_settings(store_settings, **{**configured, **dict.fromkeys(unset, "")})
    with TestClient(create_app(settings), base_url=BASE_URL, follow_redirects=False) as client:
        response = client.get(path)
        assert response.status_code == 503
        assert "<title>Sign-in is not set up</title>" in response.text
        message = f"Sign-in is not set up yet: set {names} in .env (see README.md)."
        assert f'<p class="error">{message}</p>' in response.text
        assert client.get("/").status_code == 200


def test_failed_callback_keeps_other_sessions(
    client: TestClient, other_client: TestClient, provider: OidcProvider
) -> None:
    sign_in(client, provider, sub="alice")
    assert other_client.get("/callback", params={"code": "x", "state": "y"}).status_code == 400
    assert client.get("/profile").status_code == 200


def test_provider_unreachable_at_the_callback_is_a_502_page(store_settings: dict) -> None:
    with ExitStack() as app_running:
        with OidcProvider.run() as doomed:
            settings = make_settings(store_settings, logto_endpoint=doomed.endpoint)
            app = create_app(settings)
            client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
            app_running.enter_context(client)
            callback_url = start_sign_in(client, doomed)
        response = client.get(callback_url)  # the provider has stopped meanwhile
        assert response.status_code == 502
        assert "Logto cannot be reached" in response.text
        assert_not_signed_in(client)


def test_callback_with_an_unknown_session_is_refused_and_adopts_nothing(
    app: FastAPI, client: TestClient
) -> None:
    made_up_id = "f" * 32
    client.cookies.set("session", made_up_id, domain="127.0.0.1")
    before = stored_session_ids(app)
    response = client.get("/callback", params={"code": "made-up", "state": "made-up"})
    assert response.status_code == 400
    assert "set-cookie" not in response.headers
    assert stored_session_ids(app) == before
    assert made_up_id not in before


def test_logto_that_never_answers_is_a_502_page(
    store_settings: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadlines, "LOGTO_TIMEOUT_SECONDS", 0.5)
    with socket.socket() as silent:  # takes connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings = make_settings(store_settings, logto_endpoint=endpoint)
        with TestClient(create_app(settings), base_url=BASE_URL, follow_redirects=False) as client:
            response = client.get("/sign-in")
    assert response.status_code == 502
    assert "Logto cannot be reached" in response.text
