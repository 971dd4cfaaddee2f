"""The views work with session engines that refuse synchronous calls in an event loop.

Django's database engine is one (logto-io/python issue 22): the SDK's storage is
synchronous, so the views load the session through Django's async API first.
"""

from typing import Any

from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from . import strict_sessions
from .conftest import CSRF_FIELD, sign_in
from .oidc_provider import OidcProvider


def test_sign_in_and_out_on_a_strict_engine(logto: OidcProvider, settings: Any) -> None:
    settings.SESSION_ENGINE = strict_sessions.__name__
    client = Client(enforce_csrf_checks=True)
    assert client.get("/").status_code == 200
    assert sign_in(client, logto) == "/profile"
    page = client.get("/profile")
    assert page.status_code == 200
    token = CSRF_FIELD.search(page.content.decode())
    assert token
    response = client.post("/sign-out", {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 303


def test_sign_in_under_asgi_on_a_strict_engine(logto: OidcProvider, settings: Any) -> None:
    settings.SESSION_ENGINE = strict_sessions.__name__
    client = AsyncClient()
    response = async_to_sync(client.get)("/sign-in")
    assert response.status_code == 302
    callback_url = logto.authorize(response["Location"], name="Alice")
    assert async_to_sync(client.get)(callback_url).status_code == 302
    assert "Alice" in async_to_sync(client.get)("/profile").content.decode()
