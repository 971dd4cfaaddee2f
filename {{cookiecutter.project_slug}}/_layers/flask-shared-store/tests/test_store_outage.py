"""A session store shared by app instances, down and back again."""

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from {{ cookiecutter.project_slug }}.sessions import STORE_KIND
from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import SECRET, make_app, session_id, sign_in
from .oidc_provider import OidcProvider
from .servers import environment_of, free_port, serving_app
from .store import own_store, unreachable_store


def assert_store_unavailable_page(response) -> None:
    assert response.status_code == 503
    assert f"({STORE_KIND})" in response.text
    assert "127.0.0.1" not in response.text  # the store's address is nobody's business
    assert "Traceback" not in response.text
    assert response.headers["X-Frame-Options"] == "DENY"


def test_store_down_is_a_503_and_health_says_so(settings: Settings) -> None:
    client = make_app(settings, **unreachable_store(free_port())).test_client()
    assert client.get("/").status_code == 200  # an anonymous visit needs no session
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json == {"status": "unavailable", "session_store": f"{STORE_KIND}: down"}
    assert_store_unavailable_page(client.get("/sign-in"))
    client.set_cookie("session", "an-id-the-store-cannot-be-asked-about-43-ch", domain="127.0.0.1")
    assert_store_unavailable_page(client.get("/"))


def test_an_outage_logs_a_line_per_failure_and_one_traceback(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(settings, **unreachable_store(free_port()))
    signed_in = app.test_client()
    signed_in.set_cookie("session", "A" * 43, domain="127.0.0.1")  # an id of the app's form
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert_store_unavailable_page(signed_in.get("/"))  # the session cannot be read
            assert_store_unavailable_page(app.test_client().get("/sign-in"))  # nor stored
    failures = [record for record in caplog.records if f"({STORE_KIND})" in record.getMessage()]
    assert len(failures) == 6, caplog.text
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert tracebacks == failures[:1], caplog.text


def test_app_recovers_when_the_store_is_back(
    settings: Settings, provider: OidcProvider, tmp_path: Path
) -> None:
    store, store_settings = own_store(free_port(), tmp_path)
    store.start()
    try:
        app = make_app(settings, **store_settings)
        alice, bob = app.test_client(), app.test_client()
        sign_in(alice, provider, sub="alice", name="Alice")
        sign_in(bob, provider, sub="bob", name="Bob")

        store.stop()
        assert app.test_client().get("/healthz").status_code == 503
        assert_store_unavailable_page(alice.get("/"))

        store.start()  # same port; the same app, not restarted
        assert app.test_client().get("/healthz").status_code == 200
        assert "signed in as <strong>Alice</strong>" in alice.get("/").text
        assert "signed in as <strong>Bob</strong>" in bob.get("/").text
    finally:
        store.stop()


def test_requests_right_after_the_store_restarts_succeed(
    settings: Settings, provider: OidcProvider, tmp_path: Path
) -> None:
    """The app's connections to the store were cut while it was idle: the very next
    requests, several at once, each find a live connection (one retry at most)."""
    store, store_settings = own_store(free_port(), tmp_path)
    store.start()
    try:
        app = make_app(settings, **store_settings)
        users = {f"user{number}": app.test_client() for number in range(4)}
        for sub, client in users.items():
            sign_in(client, provider, sub=sub, name=sub.title())
        # Keep as many connections open as the requests below will use.
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda client: client.get("/"), [*users.values()] * 4))

        store.stop()
        store.start()  # same port; the app did not notice

        # Sessions to store (writes) and signed-in pages (reads), all at once.
        visits: list[tuple[str | None, str]] = [(None, "/sign-in")] * 8
        visits += [(sub, "/") for sub in users] * 3

        def visit(sub: str | None, path: str) -> tuple[int, str]:
            visitor = app.test_client()
            if sub is not None:
                sid = str(session_id(users[sub]))
                visitor.set_cookie("session", sid, domain="127.0.0.1")
            response = visitor.get(path)
            return response.status_code, response.text

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda args: visit(*args), visits))
        for (sub, _), (status, text) in zip(visits, answers, strict=True):
            if sub is None:
                assert status == 302, text
            else:
                assert status == 200, text
                assert f"signed in as <strong>{sub.title()}</strong>" in text
    finally:
        store.stop()


def test_two_app_instances_share_one_session(
    settings: Settings, provider: OidcProvider, tmp_path: Path
) -> None:
    first_port, second_port = free_port(), free_port()
    env = environment_of(vars(settings))
    del env["BASE_URL"], env["APP_ENV"]
    first_env = {**env, "BASE_URL": f"http://127.0.0.1:{first_port}"}
    second_env = {**env, "BASE_URL": f"http://127.0.0.1:{second_port}"}
    assert env["SESSION_SECRET"] == SECRET
    with (
        serving_app(first_env, first_port, tmp_path / "first.log") as first,
        serving_app(second_env, second_port, tmp_path / "second.log") as second,
        httpx.Client(timeout=30) as browser,  # its cookies go to both: cookies ignore ports
    ):
        started = browser.get(f"{first}/sign-in")
        callback_url = provider.authorize(started.headers["location"], sub="carol", name="Carol")
        assert browser.get(callback_url).status_code == 302
        assert "signed in as <strong>Carol</strong>" in browser.get(f"{second}/").text
        assert "Carol" in browser.get(f"{second}/profile").text
