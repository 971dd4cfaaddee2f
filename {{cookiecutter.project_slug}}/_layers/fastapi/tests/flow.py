"""Steps of a browser signing in and out, over HTTP against the real test provider."""

import re
from concurrent.futures import ThreadPoolExecutor

import httpx2

from .oidc_provider import OidcProvider

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def sign_in(
    client: httpx2.Client,
    provider: OidcProvider,
    sub: str = "alice",
    next_path: str | None = None,
    **claims: object,
) -> httpx2.Response:
    """Sign `sub` in through /sign-in, the provider and /callback; returns the callback's answer.

    `client` is a TestClient, or an HTTP client with the app's base URL.
    """
    params = {"next": next_path} if next_path is not None else {}
    started = client.get("/sign-in", params=params)
    assert started.status_code == 302, started.text
    callback_url = provider.authorize(started.headers["location"], sub=sub, **claims)
    return client.get(callback_url)


def csrf_token(client: httpx2.Client) -> str:
    match = CSRF_FIELD.search(client.get("/").text)
    assert match, "the home page shows no sign-out form"
    return match.group(1)


def status_codes_at_once(client: httpx2.Client, path: str, requests: int = 8) -> list[int]:
    """GET `path` `requests` times, all at the same time, from as many threads."""
    with ThreadPoolExecutor(requests) as pool:
        return list(pool.map(lambda _: client.get(path).status_code, range(requests)))
