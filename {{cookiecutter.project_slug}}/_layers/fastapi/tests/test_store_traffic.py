"""What each kind of request costs the session store, counted on the real store.

An unchanged signed-in page reads the session once and writes nothing; its expiry is pushed
back only once a tenth of the lifetime has passed, by a touch rather than a rewrite;
sign-in and sign-out write only what changed; an anonymous page touches no store.
"""

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.logto_client import AppLogtoClient

from .flow import csrf_token, sign_in
from .oidc_provider import OidcProvider

STORE_OPERATIONS = (
    "load",
    "save",
    "touch",
    "delete",
    "link",
    "linked",
    "linked_sessions",
    "unlink",
    "remember",
)


@pytest.fixture
def traffic(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Calls to the app's store by operation, each passed on to the store."""
    calls: Counter[str] = Counter()
    store = app.state.session_store

    def counting(name: str, operation: Callable[..., Any]) -> Callable[..., Any]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return await operation(*args, **kwargs)

        return counted

    for name in STORE_OPERATIONS:
        monkeypatch.setattr(store, name, counting(name, getattr(store, name)))
    return calls


def test_anonymous_pages_touch_no_store(client: TestClient, traffic: Counter[str]) -> None:
    for path in ("/", "/profile", "/no-such-page"):
        assert "set-cookie" not in client.get(path).headers
    assert traffic == Counter()


def test_sign_in_writes_each_record_once(
    client: TestClient, provider: OidcProvider, traffic: Counter[str]
) -> None:
    started = client.get("/sign-in")
    assert traffic == Counter(save=1)
    traffic.clear()
    client.get(provider.authorize(started.headers["location"]))
    # The sign-in session read, deleted under its old id, indexed and saved under the new one.
    assert traffic == Counter(load=1, delete=1, link=1, save=1)


def test_unchanged_signed_in_page_reads_once_and_writes_nothing(
    client: TestClient,
    provider: OidcProvider,
    traffic: Counter[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign_in(client, provider, name="Alice")
    decoded: list[str] = []
    decode = AppLogtoClient.getIdTokenClaims
    monkeypatch.setattr(
        AppLogtoClient, "getIdTokenClaims", lambda self: decoded.append("") or decode(self)
    )
    traffic.clear()
    for _ in range(3):
        page = client.get("/")
        assert "signed in as <strong>Alice</strong>" in page.text
        assert "set-cookie" not in page.headers
    assert traffic == Counter(load=3)
    assert decoded == []  # the ID token's claims were kept at sign-in


def test_expiry_slides_with_a_touch_once_a_tenth_of_the_lifetime_has_passed(
    app: FastAPI, client: TestClient, provider: OidcProvider, traffic: Counter[str]
) -> None:
    sign_in(client, provider)
    lifetime = app.state.settings.session_lifetime
    # As if 11% of the lifetime had passed since the session was last saved.
    assert client.portal is not None
    client.portal.call(
        app.state.session_store.touch, client.cookies["session"], int(lifetime * 0.89)
    )
    traffic.clear()

    slid = client.get("/")
    assert traffic == Counter(load=1, touch=1)
    assert f"max-age={lifetime}" in slid.headers["set-cookie"].lower()
    traffic.clear()
    assert "set-cookie" not in client.get("/").headers
    assert traffic == Counter(load=1)


def test_sign_out_deletes_and_unindexes_without_saving(
    client: TestClient, provider: OidcProvider, traffic: Counter[str]
) -> None:
    sign_in(client, provider)
    token = csrf_token(client)
    traffic.clear()
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 303
    assert traffic == Counter(load=1, unlink=1, delete=1)


def test_profile_reads_the_session_once_while_the_access_token_is_valid(
    client: TestClient, provider: OidcProvider, traffic: Counter[str]
) -> None:
    sign_in(client, provider, name="Alice")
    traffic.clear()
    profile = client.get("/profile")
    assert "Alice" in profile.text
    assert "did not answer" not in profile.text
    assert traffic == Counter(load=1)


def test_devices_page_reads_the_index_and_the_sessions_once_and_writes_nothing(
    client: TestClient, provider: OidcProvider, traffic: Counter[str]
) -> None:
    sign_in(client, provider, sub="traffic")
    traffic.clear()
    assert client.get("/sessions").status_code == 200
    assert traffic == Counter(load=1, linked_sessions=1)
