"""An unfinished sign-in is kept SIGN_IN_TIMEOUT (600 s) from when /sign-in wrote it, and
does not slide; once signed in, the session lives SESSION_LIFETIME."""

from datetime import timedelta

from django.conf import settings
from django.test import Client
from django.utils import timezone

from {{ cookiecutter.project_slug }}.views import SIGN_IN_TIMEOUT

from .conftest import session_key
from .oidc_provider import OidcProvider
from .store import store_traffic
from .test_store_traffic import stored_until

SLACK = timedelta(seconds=30)  # for the time the test itself takes


def test_an_unfinished_sign_in_expires_after_the_sign_in_timeout(
    client: Client, logto: OidcProvider
) -> None:
    assert SIGN_IN_TIMEOUT == 600
    response = client.get("/sign-in")
    key = session_key(client) or ""
    timeout = timedelta(seconds=SIGN_IN_TIMEOUT)
    assert timezone.now() + timeout - SLACK < stored_until(key) <= timezone.now() + timeout
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == SIGN_IN_TIMEOUT

    response = client.get(logto.authorize(response["Location"]))
    assert response.status_code == 302
    signed_in = session_key(client) or ""
    lifetime = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert timezone.now() + lifetime - SLACK < stored_until(signed_in) <= timezone.now() + lifetime
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE


def test_an_unfinished_sign_in_does_not_slide(client: Client, logto: OidcProvider) -> None:
    client.get("/sign-in")
    key = session_key(client) or ""
    until = stored_until(key)
    with store_traffic() as traffic:
        for page in ("/", "/profile"):
            response = client.get(page)
            assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert traffic.writes == traffic.touches == 0
    assert stored_until(key) == until


def test_signing_in_again_keeps_the_lifetime(client: Client, logto: OidcProvider) -> None:
    response = client.get(logto.authorize(client.get("/sign-in")["Location"]))
    assert response.status_code == 302
    response = client.get("/sign-in")  # signed in already: not an unfinished sign-in
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE
    lifetime = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    key = session_key(client) or ""
    assert stored_until(key) > timezone.now() + lifetime - SLACK
