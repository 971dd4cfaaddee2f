from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader

from {{ cookiecutter.project_slug }}.dependencies import User, logto_client_for, optional_user
from {{ cookiecutter.project_slug }}.templating import templates

from .conftest import BASE_URL
from .flow import csrf_token, sign_in
from .oidc_provider import OidcProvider
from .store import stored_session_ids


def test_home_says_hello(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Hello Logto!" in response.text
    assert "You are not signed in" in response.text


def test_anonymous_visit_sets_no_cookie_and_stores_no_session(
    app: FastAPI, client: TestClient
) -> None:
    before = stored_session_ids(app)
    for path in ("/", "/profile", "/healthz"):
        response = client.get(path)
        assert "set-cookie" not in response.headers, path
    assert stored_session_ids(app) == before


def test_each_visitor_sees_their_own_home_page(
    client: TestClient, other_client: TestClient, provider: OidcProvider
) -> None:
    assert "You are not signed in" in other_client.get("/").text
    sign_in(client, provider, sub="alice", name="Alice")
    assert "signed in as <strong>Alice</strong>" in client.get("/").text
    assert "You are not signed in" in other_client.get("/").text
    sign_in(other_client, provider, sub="bob", name="Bob")
    assert "signed in as <strong>Bob</strong>" in other_client.get("/").text
    assert csrf_token(other_client) != csrf_token(client)


def test_home_page_is_rendered_for_each_request(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a template shows of the request is the request's own, on every visit."""
    own_index = FileSystemLoader(Path(__file__).parent / "templates")
    assert templates.env.loader is not None
    monkeypatch.setattr(templates.env, "loader", ChoiceLoader([own_index, templates.env.loader]))
    assert client.get("/", params={"greeting": "hello"}).text.strip() == "hello"
    assert client.get("/", params={"greeting": "bye"}).text.strip() == "bye"


def test_an_edited_template_shows_on_the_next_request(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = {"index.html": "before"}
    assert templates.env.loader is not None
    own_loader = ChoiceLoader([DictLoader(sources), templates.env.loader])
    monkeypatch.setattr(templates.env, "loader", own_loader)
    assert client.get("/").text == "before"
    sources["index.html"] = "after"
    assert client.get("/").text == "after"


def test_tests_can_stand_in_for_the_signed_in_user(app: FastAPI, client: TestClient) -> None:
    logto = logto_client_for(app.state.settings, {})
    carol = User({"sub": "carol", "name": "Carol"}, "token", logto)
    app.dependency_overrides[optional_user] = lambda: carol
    page = client.get("/")
    assert "signed in as <strong>Carol</strong>" in page.text
    assert "set-cookie" not in page.headers


def test_unknown_page_is_a_404_page(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "404 Not Found" in response.text


def test_healthz_reports_the_store(app: FastAPI, client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    kind = app.state.session_store.kind
    assert response.json() == {"status": "ok", "session_store": f"{kind}: ok"}


def test_unexpected_error_is_a_500_page_without_a_stack_trace(app: FastAPI) -> None:
    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        response = client.get("/broken")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "a bug" not in response.text
    assert "Traceback" not in response.text
