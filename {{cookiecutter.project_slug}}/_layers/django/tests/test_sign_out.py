"""Signing out takes a POST with the session's CSRF token; nothing else signs anyone out."""

import pytest
from django.test import Client

from .conftest import csrf_token, session_key, sign_in, stored_session
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
