"""Security and caching headers on every route: Django's SecurityMiddleware,
XFrameOptionsMiddleware and the app's ContentSecurityPolicyMiddleware, in development and
behind production's HTTPS redirect; no-store on every page that shows or changes a session."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, override_settings

from .conftest import csrf_token, sign_in
from .oidc_provider import OidcProvider

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def assert_security_headers(response: HttpResponse) -> None:
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def is_no_store(response: HttpResponse) -> bool:
    return "no-store" in response.get("Cache-Control", "")


# Pages that are the same for everyone, or show no session; every other route is private.
PUBLIC_ROUTES = {"/ anonymous", "/healthz", "404"}


def responses_of_every_route(client: Client, logto: OidcProvider) -> dict[str, HttpResponse]:
    """Each route's answer, anonymous and through a sign-in and sign-out of `client`."""
    anonymous = Client(enforce_csrf_checks=True)
    responses = {
        "/ anonymous": anonymous.get("/"),
        "/healthz": anonymous.get("/healthz"),
        "404": anonymous.get("/nowhere"),
        "/profile anonymous": anonymous.get("/profile"),
        "/callback without a sign-in": anonymous.get("/callback?code=x&state=y"),
        "GET /sign-out": anonymous.get("/sign-out"),
        "POST /sign-out without a token": anonymous.post("/sign-out"),
        "/backchannel-logout refused": anonymous.post("/backchannel-logout"),
    }
    authorization = client.get("/sign-in")
    responses["/sign-in"] = authorization
    responses["/callback"] = client.get(logto.authorize(authorization["Location"]))
    responses["/ signed in"] = client.get("/")
    responses["/profile"] = client.get("/profile")
    responses["POST /sign-out refused"] = client.post(
        "/sign-out", {"csrfmiddlewaretoken": "x" * 64}
    )
    form = {"csrfmiddlewaretoken": csrf_token(client)}
    responses["POST /sign-out"] = client.post("/sign-out", form)
    return responses


def test_every_route_sends_the_security_headers(client: Client, logto: OidcProvider) -> None:
    for route, response in responses_of_every_route(client, logto).items():
        try:
            assert_security_headers(response)
        except (AssertionError, KeyError) as error:
            raise AssertionError(f"{route}: {response.status_code} {error!r}") from None


@pytest.mark.parametrize("proxied", [True, False], ids=["https", "http redirected"])
def test_production_responses_send_them_too(proxied: bool) -> None:
    production = {
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 3600,
    }
    headers = {"X-Forwarded-Proto": "https"} if proxied else {}
    with override_settings(**production):
        browser = Client()  # loads the middleware with these settings
        for page in ("/", "/profile", "/nowhere"):
            response = browser.get(page, headers=headers)
            assert response.status_code != 200 or proxied
            assert_security_headers(response)


def test_pages_of_a_session_are_never_stored(client: Client, logto: OidcProvider) -> None:
    responses = responses_of_every_route(client, logto)
    assert responses["POST /sign-out refused"].status_code == 403
    private = {
        route: response for route, response in responses.items() if route not in PUBLIC_ROUTES
    }
    stored = [route for route, response in private.items() if not is_no_store(response)]
    assert stored == []


def test_the_home_page_varies_with_the_cookie(client: Client, logto: OidcProvider) -> None:
    anonymous = Client().get("/")
    assert "Cookie" in anonymous["Vary"]
    assert not is_no_store(anonymous)  # the same page for every visitor without a session
    sign_in(client, logto)
    signed_in = client.get("/")
    assert "Cookie" in signed_in["Vary"]
    assert is_no_store(signed_in)
    client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32  # a session the store lacks
    assert "Cookie" in client.get("/")["Vary"]
