from fastapi import FastAPI
from fastapi.testclient import TestClient

from .conftest import BASE_URL
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
