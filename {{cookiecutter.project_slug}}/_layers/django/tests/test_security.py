"""Secure by default: session fixation, the cookie, `next`, expired tokens, production checks."""

import asyncio
import os
import subprocess
import sys
import time
from importlib import import_module
from typing import Any

import jwt
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient, Client
from logto.OidcCore import OidcCore

from {{ cookiecutter.project_slug }}.session_index import CLAIMS_KEY
from {{ cookiecutter.project_slug }}.session_storage import SessionStorage

from .conftest import session_key, sign_in, stored_session
from .oidc_provider import OidcProvider
from .servers import PROJECT_DIR

# Session fixation


def test_callback_rotates_the_session_id(client: Client, logto: OidcProvider) -> None:
    callback_url = logto.authorize(client.get("/sign-in")["Location"])
    before = session_key(client)
    assert before and stored_session(before) is not None
    assert client.get(callback_url).status_code == 302
    after = session_key(client)
    assert after and after != before
    assert stored_session(before) is None
    assert stored_session(after) is not None


def test_a_made_up_session_id_is_never_adopted(client: Client, logto: OidcProvider) -> None:
    made_up = "attackerchosen" + "0" * 18
    client.cookies[settings.SESSION_COOKIE_NAME] = made_up
    sign_in(client, logto)
    assert session_key(client) != made_up
    assert stored_session(made_up) is None


# The cookie


def test_cookie_is_http_only_lax_and_small_whatever_the_tokens_weigh(
    client: Client, logto: OidcProvider
) -> None:
    response = client.get("/sign-in")
    big = "x" * 6000
    callback_url = logto.authorize(response["Location"], name=big, bio=big)
    response = client.get(callback_url)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # BASE_URL is http here
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE  # SESSION_LIFETIME
    assert len(cookie.value) < 200
    assert big in client.get("/profile").content.decode()  # the tokens are in the store


def django_setting(name: str, **env: str) -> str:
    """A setting as a fresh process with `env` sees it."""
    code = f"from django.conf import settings; print(settings.{name})"
    command = [sys.executable, "-c", f"import django; django.setup(); {code}"]
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    result = subprocess.run(
        command, cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_session_lifetime_is_the_cookies_max_age() -> None:
    assert django_setting("SESSION_COOKIE_AGE", SESSION_LIFETIME="3600") == "3600"


def test_cookie_is_secure_when_base_url_is_https() -> None:
    assert django_setting("SESSION_COOKIE_SECURE", BASE_URL="https://app.example") == "True"
    assert django_setting("SESSION_COOKIE_SECURE", BASE_URL="http://127.0.0.1:8000") == "False"


# Where sign-in returns to


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        (None, "/profile"),
        ("/some/path?x=1", "/some/path?x=1"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http:///evil.example", "/"),
    ],
)
def test_sign_in_returns_only_to_a_path_of_this_app(
    client: Client, logto: OidcProvider, next_url: str | None, lands_on: str
) -> None:
    query = {} if next_url is None else {"next": next_url}
    response = client.get("/sign-in", query)
    callback_url = logto.authorize(response["Location"])
    assert client.get(callback_url)["Location"] == lands_on


# Tokens


def expired_id_token() -> str:
    now = int(time.time())
    claims = {"iss": "x", "sub": "alice", "aud": "test-app", "iat": now - 7200, "exp": now - 60}
    return jwt.encode(claims, "not the provider's key, and never checked", algorithm="HS256")


def replace_stored_tokens(key: str, **tokens: str | None) -> None:
    """Replace tokens in the stored session; a new ID token brings its claims along."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(key)
    storage = SessionStorage(session)
    for name, value in tokens.items():
        storage.set(name, value)
    if id_token := tokens.get("idToken"):
        session[CLAIMS_KEY] = jwt.decode(id_token, options={"verify_signature": False})
    session.save()


def test_an_expired_id_token_is_not_signed_in(client: Client, logto: OidcProvider) -> None:
    sign_in(client, logto)
    replace_stored_tokens(session_key(client) or "", idToken=expired_id_token(), refreshToken=None)
    assert "You are not signed in." in client.get("/").content.decode()
    assert client.get("/profile")["Location"] == "/sign-in"


@pytest.mark.parametrize("page", ["/", "/profile"])
def test_an_expired_id_token_is_refreshed(client: Client, logto: OidcProvider, page: str) -> None:
    sign_in(client, logto, name="Alice")
    key = session_key(client) or ""
    expired = expired_id_token()
    replace_stored_tokens(key, idToken=expired)
    response = client.get(page)
    assert response.status_code == 200
    assert "Alice" in response.content.decode()
    session = stored_session(key)
    assert session is not None
    assert SessionStorage(session).get("idToken") not in {None, expired}


def test_a_refused_refresh_token_ends_the_sign_in(client: Client, logto: OidcProvider) -> None:
    sign_in(client, logto)
    key = session_key(client) or ""
    replace_stored_tokens(key, idToken=expired_id_token(), refreshToken="revoked")
    assert client.get("/profile")["Location"] == "/sign-in"
    session = stored_session(key)
    assert session is not None
    assert SessionStorage(session).get("refreshToken") is None


def test_concurrent_refreshes_in_one_session_take_turns(
    client: Client, logto: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, logto)
    replace_stored_tokens(session_key(client) or "", idToken=expired_id_token())
    refreshes: list[str] = []
    refresh = OidcCore.fetchTokenByRefreshToken

    async def counted_refresh(self: OidcCore, **kwargs: Any) -> Any:
        refreshes.append(kwargs["refreshToken"])
        return await refresh(self, **kwargs)

    monkeypatch.setattr(OidcCore, "fetchTokenByRefreshToken", counted_refresh)
    browser = AsyncClient()
    browser.cookies = client.cookies

    async def three_pages_at_once() -> list[Any]:
        return await asyncio.gather(*(browser.get("/profile") for _ in range(3)))

    responses = async_to_sync(three_pages_at_once)()
    assert [response.status_code for response in responses] == [200, 200, 200]
    assert len(refreshes) == 1


# Production mode

GOOD_PRODUCTION_ENV = {
    "APP_ENV": "production",
    "SESSION_SECRET": "k3Jd9-qLx0Vb7RtY2mWn8PzA4sHc6FuE1gTi5oKe-Xr2Nw7Lm4Qs8Dv1Bz6Hy3Cp",
    "LOGTO_APP_SECRET": "logto-app-secret",
    "BASE_URL": "https://app.example",
}


def manage_check(*options: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "manage.py", "check", *options]
    environment = {**os.environ, **GOOD_PRODUCTION_ENV, **env}
    return subprocess.run(command, cwd=PROJECT_DIR, env=environment, capture_output=True, text=True)


def test_production_settings_pass_the_deployment_checks() -> None:
    result = manage_check("--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"SESSION_SECRET": ""}, "SESSION_SECRET is missing"),
        (
            {"SESSION_SECRET": "change-me-change-me-change-me-change-me"},
            "SESSION_SECRET is a placeholder",
        ),
        (
            {"SESSION_SECRET": "short-but-random-9f3k"},
            "SESSION_SECRET is shorter than 32 characters",
        ),
        ({"LOGTO_APP_SECRET": ""}, "LOGTO_APP_SECRET is missing"),
        ({"BASE_URL": "http://app.example"}, "BASE_URL is not https"),
    ],
    ids=["no secret", "placeholder secret", "short secret", "no app secret", "http"],
)
def test_production_refuses_to_start(env: dict[str, str], complaint: str) -> None:
    result = manage_check(**env)
    assert result.returncode != 0
    refusal = f"APP_ENV=production refuses to start: {complaint}"
    assert result.stderr.strip().splitlines() == [refusal]


@pytest.mark.parametrize(
    "prefix", ["change-me", "CHANGEME", "replace-me", "your-", "Secret", "placeholder", "xxx"]
)
def test_production_refuses_a_placeholder_secret(prefix: str) -> None:
    result = manage_check(SESSION_SECRET=prefix + "-k3Jd9qLx0Vb7RtY2mWn8PzA4sHc6FuE1gTi5oKe")
    assert result.returncode != 0
    refusal = "APP_ENV=production refuses to start: SESSION_SECRET is a placeholder"
    assert result.stderr.strip().splitlines() == [refusal]


@pytest.mark.parametrize(("app_env", "debug"), [("development", "True"), ("production", "False")])
def test_debug_follows_app_env(app_env: str, debug: str) -> None:
    # Django's debug pages in development; never a traceback page for a visitor in production.
    assert django_setting("DEBUG", **{**GOOD_PRODUCTION_ENV, "APP_ENV": app_env}) == debug
