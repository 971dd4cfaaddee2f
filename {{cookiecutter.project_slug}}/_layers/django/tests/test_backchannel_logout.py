"""Back-channel logout: a logout token from Logto ends the sessions it names, and only a
valid one does (OpenID Connect Back-Channel Logout 1.0)."""

import time
import uuid
from typing import Any

import httpx
import pytest
from django.http import HttpResponse
from django.test import Client
from joserfc import jwt
from joserfc.jwk import RSAKey

from {{ cookiecutter.project_slug }} import session_index
from {{ cookiecutter.project_slug }}.backchannel_logout import LOGOUT_EVENT

from .conftest import csrf_token, indexed_sessions, session_key, sign_in, stored_session
from .oidc_provider import OidcProvider
from .servers import free_port

APP_ID = "test-app"


@pytest.fixture
def alice() -> str:
    """A user of this test only: the store and its index outlive each test."""
    return f"alice-{uuid.uuid4().hex[:8]}"


def deliver(token: str) -> HttpResponse:
    """Post a logout token as Logto does: a form, from a server, without cookies."""
    return Client(enforce_csrf_checks=True).post("/backchannel-logout", {"logout_token": token})


def is_signed_in(client: Client) -> bool:
    return "You are signed in as" in client.get("/").content.decode()


def provider_session_of(client: Client) -> str:
    session = stored_session(session_key(client) or "")
    assert session is not None
    return session[session_index.CLAIMS_KEY]["sid"]


def token_signed_by_a_stranger(provider: OidcProvider, sub: str) -> str:
    """A well-formed logout token, under the provider's key id, signed with another key."""
    kid = httpx.get(f"{provider.endpoint}/oidc/jwks").json()["keys"][0]["kid"]
    now = int(time.time())
    claims = {
        "iss": f"{provider.endpoint}/oidc",
        "aud": APP_ID,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "events": {LOGOUT_EVENT: {}},
        "sub": sub,
    }
    key = RSAKey.generate_key(2048, parameters={"kid": kid})
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def test_a_logout_token_ends_every_session_of_its_user(logto: OidcProvider, alice: str) -> None:
    laptop, phone, bob = Client(), Client(), Client()
    sign_in(laptop, logto, sub=alice, name="Alice")
    sign_in(phone, logto, sub=alice, name="Alice")
    sign_in(bob, logto, sub=f"bob-{alice}", name="Bob")
    alices = [session_key(laptop) or "", session_key(phone) or ""]
    assert sorted(indexed_sessions(alice)) == sorted(alices)

    response = deliver(logto.logout_token(APP_ID, sub=alice))
    assert response.status_code == 200, response.content
    assert response.json() == {"ended_sessions": 2}  # type: ignore[attr-defined]
    assert "no-store" in response["Cache-Control"]

    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)
    assert is_signed_in(bob)
    assert all(stored_session(key) is None for key in alices)
    assert indexed_sessions(alice) == []


def test_a_logout_token_with_a_sid_ends_that_session_only(logto: OidcProvider, alice: str) -> None:
    laptop, phone = Client(), Client()
    sign_in(laptop, logto, sub=alice)
    sign_in(phone, logto, sub=alice)
    token = logto.logout_token(APP_ID, sub=alice, sid=provider_session_of(laptop))
    assert deliver(token).status_code == 200
    assert not is_signed_in(laptop)
    assert is_signed_in(phone)
    assert indexed_sessions(alice) == [session_key(phone)]


def test_a_logout_token_for_another_user_ends_nothing(
    client: Client, logto: OidcProvider, alice: str
) -> None:
    sign_in(client, logto, sub=alice)
    assert deliver(logto.logout_token(APP_ID, sub=f"carol-{alice}")).status_code == 200
    assert is_signed_in(client)


def test_a_replayed_logout_token_does_nothing(logto: OidcProvider, alice: str) -> None:
    before, after = Client(), Client()
    sign_in(before, logto, sub=alice)
    token = logto.logout_token(APP_ID, sub=alice)
    assert deliver(token).status_code == 200
    assert not is_signed_in(before)

    sign_in(after, logto, sub=alice)  # signed in again since
    assert deliver(token).status_code == 200  # accepted, as the spec asks
    assert is_signed_in(after)


def test_sign_out_takes_the_session_out_of_the_index(
    client: Client, logto: OidcProvider, alice: str
) -> None:
    sign_in(client, logto, sub=alice)
    sid = provider_session_of(client)
    assert indexed_sessions(alice) == [session_key(client)]
    client.post("/sign-out", {"csrfmiddlewaretoken": csrf_token(client)})
    assert indexed_sessions(alice) == []
    assert stored_session(session_index.record_id("sid", sid)) is None


def test_sessions_gone_without_a_sign_out_leave_the_index_at_the_next_sign_in(
    logto: OidcProvider, alice: str
) -> None:
    first, second, third = Client(), Client(), Client()
    sign_in(first, logto, sub=alice)
    sign_in(second, logto, sub=alice)
    gone = session_key(first)
    assert gone is not None
    session_index.record(gone).delete(gone)  # expired, or evicted from a full store
    sign_in(third, logto, sub=alice)
    assert indexed_sessions(alice) == [session_key(second), session_key(third)]


INVALID_CLAIMS = {
    "wrong audience": {"aud": "another-app"},
    "wrong issuer": {"iss": "http://127.0.0.1:1/oidc"},
    "missing events": {"events": None},
    "wrong event": {"events": {"http://schemas.openid.net/event/other": {}}},
    "a nonce": {"nonce": "n-0S6_WzA2Mj"},
    "expired": {"iat": int(time.time()) - 3600, "exp": int(time.time()) - 3000},
    "neither sub nor sid": {"sub": None},
    "no expiry": {"exp": None},
}


@pytest.mark.parametrize("claims", INVALID_CLAIMS.values(), ids=INVALID_CLAIMS.keys())
def test_an_invalid_logout_token_is_refused_and_ends_nothing(
    client: Client, logto: OidcProvider, claims: dict[str, object], alice: str
) -> None:
    sign_in(client, logto, sub=alice)
    assert_refused(deliver(logto.logout_token(APP_ID, **{"sub": alice, **claims})))
    assert is_signed_in(client)


def test_a_forged_signature_is_refused(client: Client, logto: OidcProvider, alice: str) -> None:
    sign_in(client, logto, sub=alice)
    assert_refused(deliver(token_signed_by_a_stranger(logto, alice)))
    assert is_signed_in(client)


@pytest.mark.parametrize("form", [{}, {"logout_token": ""}], ids=["no field", "empty"])
def test_a_missing_token_is_named(logto: OidcProvider, form: dict[str, str]) -> None:
    response = Client().post("/backchannel-logout", form)
    assert_refused(response)
    assert response.json()["error_description"] == "logout_token is missing"  # type: ignore[attr-defined]


def test_an_invalid_token_is_named(logto: OidcProvider) -> None:
    description = deliver("not-a-jwt").json()["error_description"]  # type: ignore[attr-defined]
    assert description.startswith("invalid logout token: ")


def test_without_logto_settings_logto_is_told_to_come_back(settings: Any) -> None:
    settings.LOGTO_ENDPOINT = ""
    response = deliver("not-a-jwt")
    assert response.status_code == 503
    assert response.json() == {  # type: ignore[attr-defined]
        "error": "temporarily_unavailable",
        "error_description": "sign-in is not set up",
    }
    assert "no-store" in response["Cache-Control"]


def test_an_unreachable_logto_is_named(logto: OidcProvider, settings: Any) -> None:
    settings.LOGTO_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    response = deliver("not-a-jwt")
    assert response.status_code == 502
    assert response.json() == {  # type: ignore[attr-defined]
        "error": "temporarily_unavailable",
        "error_description": "Logto is unreachable",
    }


@pytest.mark.parametrize("token", ["", "not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."])
def test_a_missing_or_unsigned_token_is_refused(
    client: Client, logto: OidcProvider, token: str, alice: str
) -> None:
    sign_in(client, logto, sub=alice)
    assert_refused(deliver(token))
    assert is_signed_in(client)


def test_a_get_is_refused(logto: OidcProvider) -> None:
    response = Client().get("/backchannel-logout")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def assert_refused(response: HttpResponse) -> None:
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"  # type: ignore[attr-defined]
    assert "no-store" in response["Cache-Control"]
