"""Every response tells browsers how to frame, sniff, refer and cache it."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from .conftest import BASE_URL
from .flow import csrf_token, sign_in
from .oidc_provider import OidcProvider

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def assert_secured(response: Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)


def is_no_store(response: Response) -> bool:
    return "no-store" in response.headers.get("cache-control", "")


def varies_on_cookie(response: Response) -> bool:
    vary = response.headers.get("vary", "")
    return "cookie" in [part.strip().lower() for part in vary.split(",")]


def test_anonymous_home_may_be_cached_but_varies_on_the_cookie(client: TestClient) -> None:
    home = client.get("/")
    assert_secured(home)
    assert varies_on_cookie(home)
    assert not is_no_store(home)


def test_home_of_a_session_is_not_stored(client: TestClient, provider: OidcProvider) -> None:
    client.get("/sign-in")
    signing_in = client.get("/")
    assert varies_on_cookie(signing_in) and is_no_store(signing_in)
    sign_in(client, provider)
    signed_in = client.get("/")
    assert_secured(signed_in)
    assert varies_on_cookie(signed_in) and is_no_store(signed_in)


def test_private_pages_are_never_stored(client: TestClient, provider: OidcProvider) -> None:
    responses = [client.get("/profile"), client.get("/sign-in")]  # a redirect, then Logto's
    callback = sign_in(client, provider)
    responses += [callback, client.get("/profile")]
    responses.append(client.post("/sign-out", data={"csrf_token": csrf_token(client)}))
    responses.append(client.get("/callback", params={"error": "access_denied"}))  # a 400 page
    responses.append(client.post("/sign-out", data={"csrf_token": "forged"}))  # a 403 page
    responses.append(client.post("/backchannel-logout", data={"logout_token": "x"}))
    assert [response.status_code for response in responses] == [
        302, 302, 302, 200, 303, 400, 403, 400
    ]  # fmt: skip
    for response in responses:
        assert_secured(response)
        assert is_no_store(response), response.request.url


@pytest.mark.parametrize(("path", "status"), [("/healthz", 200), ("/no-such-page", 404)])
def test_other_responses_are_secured(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert_secured(response)


def test_a_bug_page_is_secured_too(app: FastAPI) -> None:
    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        response = client.get("/bug")
    assert response.status_code == 500
    assert_secured(response)
