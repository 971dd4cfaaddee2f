"""The "your devices" page lists the user's own sessions, and ends them: only theirs."""

import re
import time
import uuid
from collections.abc import Callable

import httpx2
import jwt
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from {{ cookiecutter.project_slug }}.devices import session_handle
from {{ cookiecutter.project_slug }}.session_storage import SessionStorage

from .conftest import BASE_URL
from .flow import csrf_token, sign_in
from .oidc_provider import OidcProvider
from .store import stored_session_ids

FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_ON_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
END_FORM = re.compile(r'action="/sessions/([0-9a-f]{32})/end"')
DEVICE_ENTRY = re.compile(r"Firefox on Linux.*?Signed in [^<]+UTC", re.DOTALL)
SID_ROW = re.compile(r"<tr><th>sid</th><td>([0-9a-f]+)</td></tr>")

Browser = Callable[..., TestClient]
Users = Callable[[str], str]


@pytest.fixture
def browser(app: FastAPI, client: TestClient) -> Browser:
    """Another browser on the app that `client` has started (on its event loop)."""

    def new_browser(user_agent: str = "testclient") -> TestClient:
        other = TestClient(app, base_url=BASE_URL, follow_redirects=False)
        other.portal = client.portal
        other.headers["user-agent"] = user_agent
        return other

    return new_browser


@pytest.fixture
def user() -> Users:
    """Names of users of this test's own: a session store outlives the test."""
    suffix = uuid.uuid4().hex[:8]
    return lambda name: f"{name}-{suffix}"


def linked(client: TestClient, app: FastAPI, key: str) -> set[str]:
    assert client.portal is not None
    return client.portal.call(app.state.session_store.linked, key)


def logto_session_id(client: TestClient) -> str:
    """The `sid` of the client's sign-in, from the ID token claims its profile page shows."""
    match = SID_ROW.search(client.get("/profile").text)
    assert match, "the ID token names no sid"
    return match.group(1)


def handles_on_page(client: TestClient) -> list[str]:
    """The handles of the sessions the page offers to end, in the page's order."""
    page = client.get("/sessions")
    assert page.status_code == 200
    return END_FORM.findall(page.text)


def end(client: TestClient, handle: str, **headers: str) -> httpx2.Response:
    token = csrf_token(client)
    return client.post(f"/sessions/{handle}/end", data={"csrf_token": token}, headers=headers)


def end_others(client: TestClient) -> httpx2.Response:
    return client.post("/sessions/end-others", data={"csrf_token": csrf_token(client)})


def is_signed_in(client: TestClient) -> bool:
    return client.get("/profile").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    page = client.get("/sessions")
    assert page.status_code == 302
    assert page.headers["location"] == "/sign-in"
    assert "no-store" in page.headers["cache-control"]


def test_the_page_lists_the_users_sessions_only_this_one_first(
    app: FastAPI, client: TestClient, browser: Browser, provider: OidcProvider, user: Users
) -> None:
    client.headers["user-agent"] = FIREFOX_ON_LINUX
    alices_phone, bobs = browser(SAFARI_ON_IOS), browser(FIREFOX_ON_LINUX)
    sign_in(client, provider, sub=user("alice"))
    sign_in(alices_phone, provider, sub=user("alice"))
    sign_in(bobs, provider, sub=user("bob"))

    page = client.get("/sessions")
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    assert "<h1>Your devices</h1>" in page.text
    entries = page.text.split("<li>")[1:]
    assert len(entries) == 2
    assert "Firefox on Linux" in entries[0] and "This device" in entries[0]
    assert "Safari on iOS" in entries[1] and "This device" not in entries[1]
    assert page.text.count("Signed in 20") == 2 and page.text.count("Last seen 20") == 2
    # The other session is offered to end by its handle, this one is not; ids never show.
    phone_id, bobs_id = alices_phone.cookies["session"], bobs.cookies["session"]
    assert END_FORM.findall(page.text) == [session_handle(phone_id)]
    assert "End all other sessions" in page.text
    for session_id in (client.cookies["session"], phone_id, bobs_id):
        assert session_id not in page.text
    assert session_handle(bobs_id) not in page.text
    assert END_FORM.findall(bobs.get("/sessions").text) == []


def test_others_are_listed_by_last_seen_newest_first(
    app: FastAPI, client: TestClient, browser: Browser, provider: OidcProvider, user: Users
) -> None:
    seen_long_ago, seen_lately = browser(), browser()
    sign_in(seen_long_ago, provider, sub=user("erin"))
    sign_in(client, provider, sub=user("erin"))
    sign_in(seen_lately, provider, sub=user("erin"))
    lifetime = app.state.settings.session_lifetime
    assert client.portal is not None
    # As if each had last been used that long ago: its expiry was last pushed back then.
    store = app.state.session_store
    client.portal.call(store.touch, seen_long_ago.cookies["session"], lifetime - 7200)
    client.portal.call(store.touch, seen_lately.cookies["session"], lifetime - 60)

    order = [seen_lately, seen_long_ago]
    assert handles_on_page(client) == [session_handle(b.cookies["session"]) for b in order]
    client.portal.call(store.touch, seen_long_ago.cookies["session"], lifetime)
    order = [seen_long_ago, seen_lately]
    assert handles_on_page(client) == [session_handle(b.cookies["session"]) for b in order]


def test_ending_a_session_deletes_it_and_takes_it_out_of_the_index(
    app: FastAPI, client: TestClient, browser: Browser, provider: OidcProvider, user: Users
) -> None:
    other = browser()
    sign_in(client, provider, sub=user("frank"))
    sign_in(other, provider, sub=user("frank"))
    other_id = other.cookies["session"]
    assert linked(client, app, f"sub:{user('frank')}") == {client.cookies["session"], other_id}
    other_sid = logto_session_id(other)
    assert linked(client, app, f"sid:{other_sid}") == {other_id}

    ended = end(client, session_handle(other_id))
    assert ended.status_code == 303
    assert ended.headers["location"] == "/sessions"
    assert other_id not in stored_session_ids(app)
    assert linked(client, app, f"sub:{user('frank')}") == {client.cookies["session"]}
    assert linked(client, app, f"sid:{other_sid}") == set()
    assert not is_signed_in(other)
    assert is_signed_in(client)
    assert handles_on_page(client) == []
    assert "End all other sessions" not in client.get("/sessions").text


def test_another_users_session_cannot_be_ended(
    app: FastAPI, client: TestClient, browser: Browser, provider: OidcProvider, user: Users
) -> None:
    mallory = browser()
    sign_in(client, provider, sub=user("grace"))
    sign_in(mallory, provider, sub=user("mallory"))
    stored_before = stored_session_ids(app)

    for handle in (session_handle(client.cookies["session"]), "0" * 32, "not-a-handle"):
        refused = end(mallory, handle)
        assert refused.status_code == 404, handle
        assert "no-store" in refused.headers["cache-control"]
    assert stored_session_ids(app) == stored_before
    assert linked(client, app, f"sub:{user('grace')}") == {client.cookies["session"]}
    assert is_signed_in(client)


def test_a_session_of_another_user_is_never_listed_whatever_the_index_says(
    app: FastAPI, client: TestClient, browser: Browser, provider: OidcProvider, user: Users
) -> None:
    nick = browser()
    sign_in(client, provider, sub=user("nina"))
    sign_in(nick, provider, sub=user("nick"))
    ninas = client.cookies["session"]
    assert client.portal is not None
    client.portal.call(app.state.session_store.link, ninas, [f"sub:{user('nick')}"], 3600)

    assert session_handle(ninas) not in nick.get("/sessions").text
    assert end(nick, session_handle(ninas)).status_code == 404
    assert end_others(nick).status_code == 303
    assert is_signed_in(client)


def test_end_others_ends_every_other_session_of_the_user_only(
    app: FastAPI, client: TestClient, browser: Browser, provider: OidcProvider, user: Users
) -> None:
    laptop, phone, someone_else = browser(), browser(), browser()
    for each in (client, laptop, phone):
        sign_in(each, provider, sub=user("heidi"))
    sign_in(someone_else, provider, sub=user("ivan"))
    ended = end_others(client)
    assert ended.status_code == 303
    assert ended.headers["location"] == "/sessions"
    assert linked(client, app, f"sub:{user('heidi')}") == {client.cookies["session"]}
    assert not is_signed_in(laptop) and not is_signed_in(phone)
    assert is_signed_in(client) and is_signed_in(someone_else)
    assert handles_on_page(client) == []


def test_ending_this_session_signs_out_here(
    app: FastAPI, client: TestClient, provider: OidcProvider, user: Users
) -> None:
    sign_in(client, provider, sub=user("judy"))
    session_id = client.cookies["session"]
    ended = end(client, session_handle(session_id))
    assert ended.status_code == 303
    assert ended.headers["location"] == "/"
    assert 'session=""' in ended.headers["set-cookie"]  # the cookie is expired
    assert session_id not in stored_session_ids(app)
    assert linked(client, app, f"sub:{user('judy')}") == set()


@pytest.mark.parametrize(
    ("token", "origin"),
    [("", None), ("forged", None), (None, "https://evil.example"), (None, "null")],
)
def test_forms_without_the_token_or_from_another_origin_end_nothing(
    app: FastAPI,
    client: TestClient,
    browser: Browser,
    provider: OidcProvider,
    user: Users,
    token: str | None,
    origin: str | None,
) -> None:
    other = browser()
    sign_in(client, provider, sub=user("karl"))
    sign_in(other, provider, sub=user("karl"))
    form = {"csrf_token": csrf_token(client) if token is None else token}
    headers = {"Origin": origin} if origin else {}
    handle = session_handle(other.cookies["session"])
    for path in (f"/sessions/{handle}/end", "/sessions/end-others"):
        refused = client.post(path, data=form, headers=headers)
        assert refused.status_code == 403
        assert "This form expired or did not come from this app" in refused.text
    assert is_signed_in(other)
    assert linked(client, app, f"sub:{user('karl')}") == {
        client.cookies["session"],
        other.cookies["session"],
    }


def test_anonymous_posts_are_refused(client: TestClient) -> None:
    for path in (f"/sessions/{'0' * 32}/end", "/sessions/end-others"):
        assert client.post(path, data={"csrf_token": "x"}).status_code == 403


def test_a_stale_index_entry_is_neither_listed_nor_endable(
    app: FastAPI, client: TestClient, browser: Browser, provider: OidcProvider, user: Users
) -> None:
    other = browser()
    sign_in(client, provider, sub=user("leo"))
    sign_in(other, provider, sub=user("leo"))
    gone = other.cookies["session"]
    assert client.portal is not None
    client.portal.call(app.state.session_store.delete, gone)  # expired, say; still indexed
    assert gone in linked(client, app, f"sub:{user('leo')}")

    page = client.get("/sessions")
    assert page.text.count("<li>") == 1
    assert end(client, session_handle(gone)).status_code == 404


def test_sign_in_time_and_device_survive_a_token_refresh(
    app: FastAPI, client: TestClient, provider: OidcProvider, user: Users
) -> None:
    @app.post("/test/expire-id-token")
    async def expire_id_token(request: Request) -> None:
        # The same claims, expired: the next page renews them with the refresh token.
        storage = SessionStorage(request.session)
        claims = jwt.decode(storage.get("idToken") or "", options={"verify_signature": False})
        expired = {**claims, "exp": int(time.time()) - 60}
        storage.set("idToken", jwt.encode(expired, "not Logto's key, but long enough", "HS256"))

    client.headers["user-agent"] = FIREFOX_ON_LINUX
    sign_in(client, provider, sub=user("mia"))
    entry = DEVICE_ENTRY.search(client.get("/sessions").text)
    assert entry is not None
    assert client.post("/test/expire-id-token").status_code == 200
    client.headers["user-agent"] = SAFARI_ON_IOS  # the device is the one that signed in
    refreshed = client.get("/sessions")
    assert refreshed.status_code == 200
    kept = DEVICE_ENTRY.search(refreshed.text)
    assert kept is not None and kept.group(0) == entry.group(0)
