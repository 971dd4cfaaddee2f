"""Your devices: a user's own sessions in this app, listed and ended; nobody else's."""

import re
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from {{ cookiecutter.project_slug }}.devices import session_handle, timestamp
from {{ cookiecutter.project_slug }}.session_index import DEVICE_KEY, SIGNED_IN_AT_KEY, record

from .conftest import CSRF_FIELD, indexed_sessions, session_key, sign_in, stored_session
from .oidc_provider import OidcProvider
from .store import store_traffic
from .test_security import expired_id_token, replace_stored_tokens

FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_ON_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
ENTRY = re.compile(r"<li>(.*?)</li>", re.DOTALL)


@pytest.fixture
def alice() -> str:
    """A user of this test only: the store and its index outlive each test."""
    return f"alice-{uuid.uuid4().hex[:8]}"


def browser(user_agent: str = FIREFOX_ON_LINUX) -> Client:
    return Client(enforce_csrf_checks=True, headers={"User-Agent": user_agent})


def key_of(client: Client) -> str:
    key = session_key(client)
    assert key is not None
    return key


def handle_of(client: Client) -> str:
    return session_handle(key_of(client))


def devices_page(client: Client) -> str:
    response = client.get("/sessions")
    assert response.status_code == 200, response.content
    return response.content.decode()


def entries(page: str) -> list[str]:
    return ENTRY.findall(page)


def form(client: Client) -> dict[str, str]:
    """The fields of the devices page's forms."""
    token = CSRF_FIELD.search(devices_page(client))
    assert token, "the devices page has no form"
    return {"csrfmiddlewaretoken": token.group(1)}


def is_signed_in(client: Client) -> bool:
    return client.get("/profile").status_code == 200


def test_the_page_lists_the_users_own_sessions_this_one_first(
    logto: OidcProvider, alice: str
) -> None:
    laptop, phone, bob = browser(), browser(SAFARI_ON_IOS), browser(CHROME_ON_WINDOWS)
    before = int(time.time())
    sign_in(laptop, logto, sub=alice)
    sign_in(phone, logto, sub=alice)
    sign_in(bob, logto, sub=f"bob-{alice}", name="Bob")

    response = laptop.get("/sessions")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "<h1>Your devices</h1>" in page
    this, other = entries(page)
    assert "Firefox on Linux" in this and "This device" in this
    assert "Safari on iOS" in other and "This device" not in other
    stored = stored_session(key_of(laptop))
    assert stored is not None
    assert before <= stored[SIGNED_IN_AT_KEY] <= time.time()
    assert stored[DEVICE_KEY] == "Firefox on Linux"
    assert f"Signed in {timestamp(stored[SIGNED_IN_AT_KEY])}" in this
    last_seen = stored.stored_until - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert f"Last seen {timestamp(last_seen.timestamp())}" in this
    assert "Signed in " in other and "Last seen " in other
    # Only other sessions have an End button; the handle names them, never the id.
    assert f'action="/sessions/{handle_of(phone)}/end"' in other
    assert "/end" not in this
    assert 'action="/sessions/end-others"' in page and "End all other sessions" in page
    assert "Chrome" not in page and handle_of(bob) not in page
    for client in (laptop, phone, bob):
        assert key_of(client) not in page


def test_the_page_reads_the_index_and_each_session_and_writes_nothing(
    logto: OidcProvider, alice: str
) -> None:
    laptop, phone, tablet = browser(), browser(SAFARI_ON_IOS), browser(CHROME_ON_WINDOWS)
    for client in (laptop, phone, tablet):
        sign_in(client, logto, sub=alice)
    devices_page(laptop)  # the CSRF token of its forms is made once, at the first page
    with store_traffic() as traffic:
        assert len(entries(devices_page(laptop))) == 3
    # This session, the index, the two other sessions.
    assert (traffic.reads, traffic.writes, traffic.touches) == (4, 0, 0)


def test_a_single_session_has_nothing_to_end(logto: OidcProvider, alice: str) -> None:
    laptop = browser()
    sign_in(laptop, logto, sub=alice)
    page = devices_page(laptop)
    assert len(entries(page)) == 1
    assert "This device" in page
    assert "End all other sessions" not in page


def test_other_sessions_come_by_last_seen_newest_first(logto: OidcProvider, alice: str) -> None:
    laptop, phone, tablet = browser(), browser(SAFARI_ON_IOS), browser(CHROME_ON_WINDOWS)
    for client in (laptop, phone, tablet):
        sign_in(client, logto, sub=alice)
    this, first, second = entries(devices_page(laptop))
    assert "Chrome" in first and "Safari" in second  # the tablet was seen last

    # The phone is used again a while later: its expiry is pushed back past the tablet's.
    later = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 120)
    record(key_of(phone)).touch_records([key_of(phone)], later)
    this, first, second = entries(devices_page(laptop))
    assert "This device" in this
    assert "Safari" in first and "Chrome" in second


def test_ending_another_session_deletes_it_from_the_store_and_the_index(
    logto: OidcProvider, alice: str
) -> None:
    laptop, phone = browser(), browser(SAFARI_ON_IOS)
    sign_in(laptop, logto, sub=alice)
    sign_in(phone, logto, sub=alice)
    gone = key_of(phone)

    response = laptop.post(f"/sessions/{handle_of(phone)}/end", form(laptop))
    assert response.status_code == 303
    assert response["Location"] == "/sessions"
    assert stored_session(gone) is None
    assert indexed_sessions(alice) == [key_of(laptop)]
    assert not is_signed_in(phone)
    assert is_signed_in(laptop)
    assert len(entries(devices_page(laptop))) == 1


@pytest.mark.parametrize("whose", ["another user's", "unknown", "malformed", "a session id"])
def test_a_handle_of_no_session_of_the_user_is_not_found(
    logto: OidcProvider, alice: str, whose: str
) -> None:
    laptop, phone, bob = browser(), browser(SAFARI_ON_IOS), browser(CHROME_ON_WINDOWS)
    sign_in(laptop, logto, sub=alice)
    sign_in(phone, logto, sub=alice)
    sign_in(bob, logto, sub=f"bob-{alice}", name="Bob")
    handle = {
        "another user's": handle_of(laptop),
        "unknown": "0" * 32,
        "malformed": "not-a-handle",
        "a session id": key_of(phone),
    }[whose]
    alices = sorted([key_of(laptop), key_of(phone)])

    response = bob.post(f"/sessions/{handle}/end", form(bob))
    assert response.status_code == 404
    assert sorted(indexed_sessions(alice)) == alices
    assert all(stored_session(key) is not None for key in alices)
    assert is_signed_in(laptop) and is_signed_in(phone) and is_signed_in(bob)


def test_ending_all_other_sessions_keeps_this_one_and_other_users(
    logto: OidcProvider, alice: str
) -> None:
    laptop, phone, tablet = browser(), browser(SAFARI_ON_IOS), browser(CHROME_ON_WINDOWS)
    bob = browser()
    for client in (laptop, phone, tablet):
        sign_in(client, logto, sub=alice)
    sign_in(bob, logto, sub=f"bob-{alice}", name="Bob")
    ended = [key_of(phone), key_of(tablet)]

    response = laptop.post("/sessions/end-others", form(laptop))
    assert response.status_code == 303
    assert response["Location"] == "/sessions"
    assert indexed_sessions(alice) == [key_of(laptop)]
    assert all(stored_session(key) is None for key in ended)
    assert not is_signed_in(phone) and not is_signed_in(tablet)
    assert is_signed_in(laptop) and is_signed_in(bob)
    assert indexed_sessions(f"bob-{alice}") == [key_of(bob)]


def test_ending_this_session_signs_out_here(logto: OidcProvider, alice: str) -> None:
    laptop, phone = browser(), browser(SAFARI_ON_IOS)
    sign_in(laptop, logto, sub=alice)
    sign_in(phone, logto, sub=alice)
    this = key_of(laptop)

    response = laptop.post(f"/sessions/{handle_of(laptop)}/end", form(laptop))
    assert response.status_code == 303
    assert response["Location"] == "/"
    assert stored_session(this) is None
    assert indexed_sessions(alice) == [key_of(phone)]
    assert session_key(laptop) is None  # the cookie is gone
    assert not is_signed_in(laptop)
    assert is_signed_in(phone)


@pytest.mark.parametrize("action", ["one", "others"])
@pytest.mark.parametrize(
    ("token", "origin"),
    [("none", None), ("wrong", None), ("valid", "https://evil.example"), ("valid", "null")],
    ids=["no token", "wrong token", "another origin", "null origin"],
)
def test_forms_without_the_csrf_token_or_from_elsewhere_are_refused(
    logto: OidcProvider, alice: str, action: str, token: str, origin: str | None
) -> None:
    laptop, phone = browser(), browser(SAFARI_ON_IOS)
    sign_in(laptop, logto, sub=alice)
    sign_in(phone, logto, sub=alice)
    fields = {"none": {}, "wrong": {"csrfmiddlewaretoken": "x" * 64}, "valid": form(laptop)}
    url = f"/sessions/{handle_of(phone)}/end" if action == "one" else "/sessions/end-others"
    headers = {} if origin is None else {"Origin": origin}

    response = laptop.post(url, fields[token], headers=headers)
    assert response.status_code == 403
    assert "Forbidden" in response.content.decode()
    assert stored_session(key_of(phone)) is not None
    assert len(indexed_sessions(alice)) == 2


def test_anonymous_visitors_are_sent_to_sign_in_or_refused(logto: OidcProvider) -> None:
    response = browser().get("/sessions")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in"
    assert browser().post("/sessions/end-others").status_code == 403  # no CSRF cookie
    # Even past the CSRF check, there is no one to end sessions for.
    unchecked = Client()
    assert unchecked.post("/sessions/end-others")["Location"] == "/sign-in"
    assert unchecked.post(f"/sessions/{'0' * 32}/end")["Location"] == "/sign-in"


def test_a_get_ends_nothing(logto: OidcProvider, alice: str) -> None:
    laptop, phone = browser(), browser(SAFARI_ON_IOS)
    sign_in(laptop, logto, sub=alice)
    sign_in(phone, logto, sub=alice)
    assert laptop.get(f"/sessions/{handle_of(phone)}/end").status_code == 405
    assert laptop.get("/sessions/end-others").status_code == 405
    assert is_signed_in(phone)


def test_index_entries_whose_session_is_gone_are_skipped(logto: OidcProvider, alice: str) -> None:
    laptop, phone = browser(), browser(SAFARI_ON_IOS)
    sign_in(laptop, logto, sub=alice)
    sign_in(phone, logto, sub=alice)
    gone = key_of(phone)
    record(gone).delete(gone)  # expired, or evicted from a full store
    assert len(indexed_sessions(alice)) == 2
    page = devices_page(laptop)
    assert len(entries(page)) == 1
    assert "End all other sessions" not in page


def test_a_refresh_keeps_when_and_where_the_session_was_signed_in(
    logto: OidcProvider, alice: str
) -> None:
    laptop = browser()
    sign_in(laptop, logto, sub=alice)
    key = key_of(laptop)
    before = stored_session(key)
    assert before is not None
    replace_stored_tokens(key, idToken=expired_id_token())
    assert is_signed_in(laptop)  # refreshed
    after = stored_session(key)
    assert after is not None
    assert after[SIGNED_IN_AT_KEY] == before[SIGNED_IN_AT_KEY]
    assert after[DEVICE_KEY] == "Firefox on Linux"
    assert "Firefox on Linux" in devices_page(laptop)
