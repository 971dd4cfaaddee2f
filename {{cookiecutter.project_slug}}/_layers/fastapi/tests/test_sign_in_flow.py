"""The whole authorization-code flow over HTTP against the real test provider."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from logto.models.oidc import OidcProviderMetadata
from logto.OidcCore import OidcCore

from {{ cookiecutter.project_slug }} import logto_client

from .conftest import BASE_URL
from .flow import csrf_token, sign_in
from .oidc_provider import OidcProvider
from .store import stored_session_ids


def test_sign_in_profile_and_sign_out(
    app: FastAPI, client: TestClient, provider: OidcProvider
) -> None:
    before = stored_session_ids(app)

    callback = sign_in(client, provider, sub="alice", name="Alice")
    assert callback.status_code == 302
    assert callback.headers["location"] == "/profile"
    session_id = client.cookies["session"]
    assert session_id in stored_session_ids(app)

    profile = client.get("/profile")
    assert profile.status_code == 200
    assert "alice" in profile.text
    assert "Alice" in profile.text
    assert "User info" in profile.text
    assert "did not answer" not in profile.text
    assert "signed in as <strong>Alice</strong>" in client.get("/").text

    signed_out = client.post("/sign-out", data={"csrf_token": csrf_token(client)})
    assert signed_out.status_code == 303
    end_session_url = signed_out.headers["location"]
    assert end_session_url.startswith(provider.endpoint)
    assert provider.end_session(end_session_url) == f"{BASE_URL}/"

    assert session_id not in stored_session_ids(app)
    assert "session" not in client.cookies
    assert "You are not signed in" in client.get("/").text
    sent_to_sign_in = client.get("/profile")
    assert (sent_to_sign_in.status_code, sent_to_sign_in.headers["location"]) == (302, "/sign-in")
    assert stored_session_ids(app) == before


@pytest.mark.parametrize("form", [{}, {"csrf_token": ""}, {"csrf_token": "forged"}])
def test_sign_out_without_the_right_csrf_token_is_refused(
    client: TestClient, provider: OidcProvider, form: dict[str, str]
) -> None:
    sign_in(client, provider)
    response = client.post("/sign-out", data=form)
    assert response.status_code == 403
    assert client.get("/profile").status_code == 200


def test_each_sign_in_gets_a_new_csrf_token_that_stays_for_the_session(
    client: TestClient, provider: OidcProvider
) -> None:
    sign_in(client, provider)
    first = csrf_token(client)
    assert csrf_token(client) == first  # the same on every page of the session
    sign_in(client, provider)
    second = csrf_token(client)
    assert second != first
    assert client.post("/sign-out", data={"csrf_token": first}).status_code == 403
    assert client.post("/sign-out", data={"csrf_token": second}).status_code == 303


def test_csrf_token_of_another_session_is_refused(
    client: TestClient, other_client: TestClient, provider: OidcProvider
) -> None:
    sign_in(client, provider, sub="alice")
    sign_in(other_client, provider, sub="bob")
    signed_out = other_client.post("/sign-out", data={"csrf_token": csrf_token(client)})
    assert signed_out.status_code == 403
    assert other_client.get("/profile").status_code == 200


def test_get_sign_out_signs_nobody_out(client: TestClient, provider: OidcProvider) -> None:
    sign_in(client, provider)
    assert client.get("/sign-out").status_code == 405
    assert client.get("/profile").status_code == 200


def test_discovery_is_fetched_once_per_process(
    client: TestClient,
    other_client: TestClient,
    provider: OidcProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logto_client, "_oidc_cores", {})
    fetched: list[str] = []
    fetch = OidcCore.getProviderMetadata

    async def counting_fetch(url: str) -> OidcProviderMetadata:
        fetched.append(url)
        return await fetch(url)

    monkeypatch.setattr(OidcCore, "getProviderMetadata", counting_fetch)
    sign_in(client, provider, sub="alice")
    sign_in(other_client, provider, sub="bob")
    assert fetched == [f"{provider.endpoint}/oidc/.well-known/openid-configuration"]


def test_profile_notes_a_userinfo_failure_instead_of_failing(
    client: TestClient, provider: OidcProvider
) -> None:
    sign_in(client, provider, sub="carol", name="Carol")
    provider.revoke_tokens("carol")  # the access token no longer opens userinfo
    profile = client.get("/profile")
    assert profile.status_code == 200
    assert "Carol" in profile.text
    assert "userinfo endpoint did not answer" in profile.text
