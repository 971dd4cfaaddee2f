"""`request.logto_user` and `login_required`, as a view added to this project uses them."""

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from {{ cookiecutter.project_slug }}.auth import login_required

from .conftest import sign_in
from .oidc_provider import OidcProvider


@login_required
def greeting(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"Hello {request.logto_user['sub']}")  # type: ignore[attr-defined]


@login_required
async def async_greeting(request: HttpRequest) -> HttpResponse:
    user = await request.alogto_user()  # type: ignore[attr-defined]
    return HttpResponse(f"Hello {user['sub']}")


urlpatterns = [
    path("greeting", greeting),
    path("async-greeting", async_greeting),
    path("", include("{{ cookiecutter.project_slug }}.urls")),
]


@pytest.fixture(autouse=True)
def these_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__


@pytest.mark.parametrize("page", ["/greeting", "/async-greeting"])
def test_a_view_for_the_signed_in_only(client: Client, logto: OidcProvider, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == "/sign-in"
    sign_in(client, logto, sub="alice")
    assert client.get(page).content.decode() == "Hello alice"


def test_the_user_is_read_only_when_a_view_asks(client: Client, logto: OidcProvider) -> None:
    sign_in(client, logto, sub="alice")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "Cookie" not in response.get("Vary", "")  # the session was not even loaded
