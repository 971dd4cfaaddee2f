"""Your devices: a user's own sessions in this app, listed and ended through the index that
back-channel logout uses; nothing of another user's."""

import re
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from {{ cookiecutter.project_slug }}.backchannel_logout import LogoutToken
from {{ cookiecutter.project_slug }}.devices import session_handle, timestamp
from {{ cookiecutter.project_slug }}.session_interface import SIGN_IN_KEY, SignIn
from {{ cookiecutter.project_slug }}.settings import Settings

from .conftest import BASE_URL, csrf_token_of, make_app, session_id, sign_in
from .oidc_provider import OidcProvider
from .store import store_traffic, stored_session_ids

CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_ON_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)
END_FORM = re.compile(r'action="/sessions/([^"/]+)/end"')
ENTRY = re.compile(r"<li>(.*?)</li>", re.DOTALL)
DAY = 24 * 3600


def browser(app: Flask, user_agent: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


@pytest.fixture
def alice_and_bob(app: Flask, provider: OidcProvider) -> dict[str, FlaskClient]:
    """Alice signed in on a laptop and a phone, Bob on his own computer."""
    browsers = {
        "laptop": browser(app, CHROME_ON_LINUX),
        "phone": browser(app, SAFARI_ON_IOS),
        "bob": browser(app, FIREFOX_ON_WINDOWS),
    }
    sign_in(browsers["laptop"], provider, sub="alice", name="Alice")
    sign_in(browsers["phone"], provider, sub="alice", name="Alice")
    sign_in(browsers["bob"], provider, sub="bob", name="Bob")
    return browsers


def entries(page: TestResponse) -> list[str]:
    """The devices on the page, each as one line of text."""
    return [" ".join(re.sub(r"<[^>]+>", " ", entry).split()) for entry in ENTRY.findall(page.text)]


def handle_of(client: FlaskClient) -> str:
    return session_handle(str(session_id(client)))


def store_id_of(app: Flask, client: FlaskClient) -> str:
    return app.session_interface.key_prefix + str(session_id(client))  # type: ignore[attr-defined]


def indexed_session_ids(app: Flask, sub: str) -> set[str]:
    """The store ids the back-channel logout index lists for `sub`."""
    logout = LogoutToken(sub=sub, sid=None, jti="", exp=0)
    sessions = app.session_interface.signed_in_sessions(logout)  # type: ignore[attr-defined]
    return {store_id for store_id, _ in sessions}


def is_signed_in(client: FlaskClient) -> bool:
    return "signed in as" in client.get("/").text


def end(client: FlaskClient, handle: str, **headers: str) -> TestResponse:
    token = csrf_token_of(client.get("/sessions"))
    return client.post(f"/sessions/{handle}/end", data={"csrf_token": token}, headers=headers)


def end_others(client: FlaskClient) -> TestResponse:
    token = csrf_token_of(client.get("/sessions"))
    return client.post("/sessions/end-others", data={"csrf_token": token})


def last_seen_days_ago(app: Flask, client: FlaskClient, days: float) -> float:
    """Make `client`'s session look last seen `days` ago (its expiry pushed back then)."""
    interface = app.session_interface
    store_id = store_id_of(app, client)
    record = interface.load(store_id)  # type: ignore[attr-defined]
    seen = time.time() - days * DAY
    interface.touch(store_id, seen + interface.lifetime, SignIn.of(record.data))  # type: ignore[attr-defined]
    return seen


def test_the_page_lists_the_users_own_sessions_this_one_first(
    app: Flask, alice_and_bob: dict[str, FlaskClient]
) -> None:
    laptop, phone, bob = alice_and_bob["laptop"], alice_and_bob["phone"], alice_and_bob["bob"]
    page = laptop.get("/sessions")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "<h1>Your devices</h1>" in page.text
    listed = entries(page)
    assert len(listed) == 2, listed
    assert listed[0].startswith("Chrome on Linux This device Signed in ")
    assert listed[1].startswith("Safari on iOS Signed in ")
    assert "This device" not in listed[1]
    assert "Firefox" not in page.text
    # Only the other session has an End form, named by its handle, never by its id.
    assert END_FORM.findall(page.text) == [handle_of(phone)]
    assert ">End all other sessions</button>" in page.text
    for client in (laptop, phone, bob):
        assert str(session_id(client)) not in page.text

    bobs = bob.get("/sessions")
    assert [entry.split(" Signed in ")[0] for entry in entries(bobs)] == [
        "Firefox on Windows This device"
    ]
    assert END_FORM.findall(bobs.text) == []
    assert "End all other sessions" not in bobs.text
    assert "Chrome" not in bobs.text and "Safari" not in bobs.text


def test_each_session_shows_when_it_signed_in_and_was_last_seen(
    app: Flask, provider: OidcProvider
) -> None:
    laptop, phone, tablet = (browser(app, agent) for agent in ["laptop/1", "phone/1", "tablet/1"])
    before = time.time()
    for client in (laptop, phone, tablet):
        sign_in(client, provider, sub="alice")
    after = time.time()
    phone_seen = last_seen_days_ago(app, phone, 3)
    tablet_seen = last_seen_days_ago(app, tablet, 1)

    listed = entries(laptop.get("/sessions"))
    # This one, then the others by last seen, newest first.
    assert [entry.split(" ")[0] for entry in listed] == ["laptop", "tablet", "phone"]
    signed_in = {f"Signed in {timestamp(before)}", f"Signed in {timestamp(after)}"}
    assert all(any(text in entry for text in signed_in) for entry in listed), listed
    assert f"Last seen {timestamp(tablet_seen)}" in listed[1]
    assert f"Last seen {timestamp(phone_seen)}" in listed[2]
    assert any(f"Last seen {timestamp(moment)}" in listed[0] for moment in (before, after))


def test_the_page_writes_nothing(app: Flask, alice_and_bob: dict[str, FlaskClient]) -> None:
    laptop = alice_and_bob["laptop"]
    laptop.get("/sessions")
    with store_traffic(app) as traffic:
        assert laptop.get("/sessions").status_code == 200
    assert traffic.reads, traffic
    assert traffic.writes == [], traffic


def test_a_session_gone_from_the_store_is_not_listed(
    app: Flask, alice_and_bob: dict[str, FlaskClient]
) -> None:
    laptop, phone = alice_and_bob["laptop"], alice_and_bob["phone"]
    # The record alone, as when it expires before its index entry does.
    app.session_interface.delete(store_id_of(app, phone), None)  # type: ignore[attr-defined]
    page = laptop.get("/sessions")
    assert page.status_code == 200
    assert len(entries(page)) == 1
    assert END_FORM.findall(page.text) == []


def test_ending_another_session(app: Flask, alice_and_bob: dict[str, FlaskClient]) -> None:
    laptop, phone, bob = alice_and_bob["laptop"], alice_and_bob["phone"], alice_and_bob["bob"]
    ended = end(laptop, handle_of(phone))
    assert ended.status_code == 303
    assert ended.location == "/sessions"
    assert ended.headers["Cache-Control"] == "no-store"

    assert session_id(phone) not in stored_session_ids(app)
    assert indexed_session_ids(app, "alice") == {store_id_of(app, laptop)}
    assert not is_signed_in(phone)
    assert is_signed_in(laptop) and is_signed_in(bob)
    assert len(entries(laptop.get("/sessions"))) == 1


@pytest.mark.parametrize("handle", ["alices", "alices id", "unknown", "malformed"])
def test_a_session_not_of_ones_own_is_not_found_and_nothing_ends(
    app: Flask, alice_and_bob: dict[str, FlaskClient], handle: str
) -> None:
    laptop, phone, bob = alice_and_bob["laptop"], alice_and_bob["phone"], alice_and_bob["bob"]
    named = {
        "alices": handle_of(phone),
        "alices id": str(session_id(phone)),
        "unknown": "0" * 32,
        "malformed": "not-a-handle",
    }[handle]
    stored, indexed = stored_session_ids(app), indexed_session_ids(app, "alice")

    refused = end(bob, named)
    assert refused.status_code == 404
    assert refused.headers["Cache-Control"] == "no-store"
    assert stored_session_ids(app) == stored
    assert indexed_session_ids(app, "alice") == indexed
    assert is_signed_in(laptop) and is_signed_in(phone) and is_signed_in(bob)


def test_ending_all_other_sessions(
    app: Flask, provider: OidcProvider, alice_and_bob: dict[str, FlaskClient]
) -> None:
    laptop, phone, bob = alice_and_bob["laptop"], alice_and_bob["phone"], alice_and_bob["bob"]
    tablet = browser(app, "tablet/1")
    sign_in(tablet, provider, sub="alice")

    ended = end_others(laptop)
    assert ended.status_code == 303
    assert ended.location == "/sessions"
    assert not {session_id(phone), session_id(tablet)} & stored_session_ids(app)
    assert indexed_session_ids(app, "alice") == {store_id_of(app, laptop)}
    assert indexed_session_ids(app, "bob") == {store_id_of(app, bob)}
    assert not is_signed_in(phone) and not is_signed_in(tablet)
    assert is_signed_in(laptop) and is_signed_in(bob)
    page = laptop.get("/sessions")
    assert len(entries(page)) == 1
    assert "End all other sessions" not in page.text


def test_ending_this_session_signs_out_here(
    app: Flask, alice_and_bob: dict[str, FlaskClient]
) -> None:
    laptop, phone = alice_and_bob["laptop"], alice_and_bob["phone"]
    laptops = session_id(laptop)
    ended = end(laptop, handle_of(laptop))
    assert ended.status_code == 303
    assert ended.location == "/"
    assert session_id(laptop) is None  # the cookie is deleted
    assert laptops not in stored_session_ids(app)
    assert indexed_session_ids(app, "alice") == {store_id_of(app, phone)}
    assert not is_signed_in(laptop)
    assert is_signed_in(phone)


FORGED = {
    "no token": ({}, {}),
    "wrong token": ({"csrf_token": "forged"}, {}),
    "another origin": (None, {"Origin": "https://evil.example"}),
    "null origin": (None, {"Origin": "null"}),
}


@pytest.mark.parametrize("path", ["/sessions/{handle}/end", "/sessions/end-others"])
@pytest.mark.parametrize("form, headers", FORGED.values(), ids=FORGED.keys())
def test_a_form_not_from_this_app_is_refused(
    app: Flask,
    alice_and_bob: dict[str, FlaskClient],
    path: str,
    form: dict[str, str] | None,
    headers: dict[str, str],
) -> None:
    laptop, phone = alice_and_bob["laptop"], alice_and_bob["phone"]
    if form is None:  # the right token, from the wrong place
        form = {"csrf_token": csrf_token_of(laptop.get("/sessions"))}
    stored = stored_session_ids(app)
    refused = laptop.post(path.format(handle=handle_of(phone)), data=form, headers=headers)
    assert refused.status_code == 403
    assert "did not come from this app" in refused.text
    assert stored_session_ids(app) == stored
    assert is_signed_in(phone)


def test_the_forms_of_this_app_pass_the_origin_check(
    app: Flask, alice_and_bob: dict[str, FlaskClient]
) -> None:
    laptop, phone = alice_and_bob["laptop"], alice_and_bob["phone"]
    assert end(laptop, handle_of(phone), Origin=BASE_URL).status_code == 303
    assert not is_signed_in(phone)


@pytest.mark.parametrize("path", [f"/sessions/{'0' * 32}/end", "/sessions/end-others"])
def test_an_anonymous_post_is_refused(client: FlaskClient, path: str) -> None:
    response = client.post(path, data={"csrf_token": "anything"})
    assert response.status_code == 403
    assert session_id(client) is None


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/sessions")
    assert response.status_code == 302
    assert response.location == "/sign-in?next=/sessions"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_nav_links_to_the_page(alice_and_bob: dict[str, FlaskClient]) -> None:
    for path in ("/", "/profile"):
        assert 'href="/sessions"' in alice_and_bob["laptop"].get(path).text


SHORT_TOKEN_LIFETIME = 2


@pytest.fixture(scope="module")
def short_lived_provider() -> Iterator[OidcProvider]:
    with OidcProvider.run(token_lifetime=SHORT_TOKEN_LIFETIME) as provider:
        yield provider


def test_a_refresh_keeps_when_and_where_the_session_signed_in(
    settings: Settings, short_lived_provider: OidcProvider
) -> None:
    app = make_app(settings, logto_endpoint=short_lived_provider.endpoint)
    laptop = browser(app, CHROME_ON_LINUX)
    sign_in(laptop, short_lived_provider, sub="alice", name="Alice")
    with laptop.session_transaction() as session:
        signed_in = dict(session[SIGN_IN_KEY])
        id_token = session["logto:idToken"]
    assert signed_in["device"] == "Chrome on Linux"
    time.sleep(SHORT_TOKEN_LIFETIME + 1)

    laptop.environ_base["HTTP_USER_AGENT"] = FIREFOX_ON_WINDOWS  # not a new sign-in
    assert is_signed_in(laptop)
    with laptop.session_transaction() as session:
        assert session["logto:idToken"] != id_token  # refreshed
        assert session[SIGN_IN_KEY] == signed_in
    assert entries(laptop.get("/sessions"))[0].startswith("Chrome on Linux This device")
