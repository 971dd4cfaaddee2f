from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.templating import home_page

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


def test_anonymous_home_page_is_rendered_once_for_every_visitor(client: TestClient) -> None:
    first = client.get("/")
    renders = home_page.cache_info().misses
    others = [client.get("/") for _ in range(3)]
    assert home_page.cache_info().misses == renders
    assert all(other.text == first.text for other in others)
    assert all(other.headers == first.headers for other in others)


def test_each_session_has_its_own_home_page_rendered_once(
    client: TestClient, other_client: TestClient, provider: OidcProvider
) -> None:
    assert "You are not signed in" in other_client.get("/").text
    sign_in(client, provider, sub="alice", name="Alice")
    renders = home_page.cache_info().misses
    pages = [client.get("/").text for _ in range(3)]
    assert home_page.cache_info().misses == renders + 1
    assert pages == [pages[0]] * 3
    assert "signed in as <strong>Alice</strong>" in pages[0]
    assert "You are not signed in" in other_client.get("/").text
    sign_in(other_client, provider, sub="bob", name="Bob")
    assert "signed in as <strong>Bob</strong>" in other_client.get("/").text
    assert csrf_token(other_client) != csrf_token(client)


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
