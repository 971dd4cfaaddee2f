"""A store outside the process is shared: app processes serve each other's sessions."""

import httpx
from django.conf import settings

from .oidc_provider import OidcProvider
from .servers import free_port, serve_app
from .store import app_env


def test_two_app_instances_share_sessions(logto: OidcProvider) -> None:
    first_port, second_port = free_port(), free_port()
    env = {
        **app_env(),
        "BASE_URL": f"http://127.0.0.1:{first_port}",
        "LOGTO_ENDPOINT": logto.endpoint,
        "LOGTO_APP_ID": "test-app",
        "LOGTO_APP_SECRET": "test-secret",
    }
    with serve_app(first_port, env) as first, serve_app(second_port, env) as second:
        browser = httpx.Client(base_url=first)
        callback_url = logto.authorize(browser.get("/sign-in").headers["location"], name="Alice")
        assert browser.get(callback_url).status_code == 302
        cookie = {settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME]}
        response = httpx.get(f"{second}/profile", cookies=cookie)
        assert response.status_code == 200
        assert "Alice" in response.text
