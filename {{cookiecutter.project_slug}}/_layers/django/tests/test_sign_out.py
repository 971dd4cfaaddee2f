"""Signing out takes a POST with the session's CSRF token; nothing else signs anyone out."""

import pytest
from django.conf import settings
from django.test import Client

from .conftest import CSRF_FIELD, csrf_token, session_key, sign_in, stored_session
from .oidc_provider import OidcProvider


@pytest.mark.parametrize("form", [{}, {"csrfmiddlewaretoken": "x" * 64}], ids=["none", "wrong"])
def test_sign_out_without_the_csrf_token_is_refused(
    client: Client, logto: OidcProvider, form: dict[str, str]
) -> None:
    sign_in(client, logto)
    response = client.post("/sign-out", form)
    assert response.status_code == 403
    assert "Forbidden" in response.content.decode()
    assert client.get("/profile").status_code == 200


def test_get_sign_out_signs_no_one_out(client: Client, logto: OidcProvider) -> None:
    sign_in(client, logto)
    response = client.get("/sign-out")
    assert response.status_code == 405
    assert client.get("/profile").status_code == 200


def test_csrf_token_of_another_session_is_refused(client: Client, logto: OidcProvider) -> None:
    sign_in(client, logto)
    other = Client(enforce_csrf_checks=True)
    sign_in(other, logto, sub="bob")
    response = client.post("/sign-out", {"csrfmiddlewaretoken": csrf_token(other)})
    assert response.status_code == 403
    key = session_key(client)
    assert key and stored_session(key) is not None


def form_token(client: Client, page: str = "/") -> str:
    match = CSRF_FIELD.search(client.get(page).content.decode())
    assert match, f"{page} has no sign-out form"
    return match.group(1)


def test_the_form_token_is_made_once_per_sign_in(client: Client, logto: OidcProvider) -> None:
    sign_in(client, logto)
    first = form_token(client)
    assert form_token(client) == form_token(client, "/profile") == first
    # Signed-in pages send no cookie: neither the session's nor Django's CSRF cookie.
    assert not client.get("/").cookies
    sign_in(client, logto)
    assert form_token(client) != first
    response = client.post("/sign-out", {"csrfmiddlewaretoken": first})
    assert response.status_code == 403  # the token of the earlier sign-in no longer counts


def test_a_browser_that_lost_its_csrf_cookie_gets_a_new_token(
    client: Client, logto: OidcProvider
) -> None:
    sign_in(client, logto)
    before = form_token(client)
    del client.cookies[settings.CSRF_COOKIE_NAME]
    response = client.get("/")
    assert settings.CSRF_COOKIE_NAME in response.cookies
    token = CSRF_FIELD.search(response.content.decode())
    assert token and token.group(1) != before
    assert form_token(client) == token.group(1)  # kept for the next pages
    response = client.post("/sign-out", {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code in {302, 303}


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "http://127.0.0.1:8001", "https://127.0.0.1:8000"],
    ids=["another site", "null", "another port", "another scheme"],
)
def test_sign_out_from_another_origin_is_refused(
    client: Client, logto: OidcProvider, origin: str
) -> None:
    sign_in(client, logto)
    form = {"csrfmiddlewaretoken": csrf_token(client)}
    response = client.post("/sign-out", form, headers={"Origin": origin})
    assert response.status_code == 403  # CsrfViewMiddleware checks Origin against BASE_URL
    assert "Forbidden" in response.content.decode()
    key = session_key(client)
    assert key and stored_session(key) is not None
    assert client.get("/profile").status_code == 200


def test_sign_out_from_the_apps_own_origin_is_accepted(client: Client, logto: OidcProvider) -> None:
    assert settings.BASE_URL == "http://127.0.0.1:8000"
    sign_in(client, logto)
    form = {"csrfmiddlewaretoken": csrf_token(client)}
    response = client.post("/sign-out", form, headers={"Origin": settings.BASE_URL})
    assert response.status_code in {302, 303}
    assert client.get("/profile")["Location"] == "/sign-in"
