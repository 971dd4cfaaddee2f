"""The whole authorization-code flow over HTTP against a real provider, and sign-out."""

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from logto.OidcCore import OidcCore

from {{ cookiecutter.project_slug }} import logto_client
from {{ cookiecutter.project_slug }}.settings import origin as origin_of

from .conftest import BASE_URL, csrf_token_of, session_id, sign_in
from .oidc_provider import OidcProvider
from .store import stored_session_ids


def test_sign_in_profile_and_sign_out(
    app: Flask, client: FlaskClient, provider: OidcProvider
) -> None:
    started = client.get("/sign-in")
    assert started.status_code == 302
    authorization = urlsplit(started.location)
    assert started.location.startswith(f"{provider.endpoint}/oidc/")
    assert parse_qs(authorization.query)["redirect_uri"] == [f"{BASE_URL}/callback"]

    finished = client.get(provider.authorize(started.location, sub="alice", name="Alice"))
    assert finished.status_code == 302
    assert finished.location == "/profile"

    profile = client.get("/profile")
    assert profile.status_code == 200
    assert "alice" in profile.text  # the ID token's `sub`
    assert "Alice" in profile.text  # the userinfo's `name`
    assert "<td>None</td>" not in profile.text  # claims the token does not carry are not listed
    home = client.get("/")
    assert "signed in as <strong>Alice</strong>" in home.text
    signed_in_id = session_id(client)
    assert signed_in_id in stored_session_ids(app)

    signed_out = client.post("/sign-out", data={"csrf_token": csrf_token_of(home)})
    assert signed_out.status_code == 303
    assert signed_out.location.startswith(f"{provider.endpoint}/oidc/")
    assert provider.end_session(signed_out.location) == f"{BASE_URL}/"
    assert "not signed in" in client.get("/").text
    assert session_id(client) is None
    assert signed_in_id not in stored_session_ids(app)
    assert stored_session_ids(app) == set()


def test_anonymous_profile_goes_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/profile")
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/sign-in"


@pytest.mark.parametrize("csrf_token", [None, "", "forged", "InRva2VuIg.forged-signature", "forgé"])
def test_sign_out_without_the_csrf_token_is_refused(
    client: FlaskClient, provider: OidcProvider, csrf_token: str | None
) -> None:
    sign_in(client, provider)
    data = {} if csrf_token is None else {"csrf_token": csrf_token}
    response = client.post("/sign-out", data=data)
    assert response.status_code == 403
    assert "signed in as" in client.get("/").text


def test_csrf_token_of_another_session_is_refused(
    app: Flask, client: FlaskClient, provider: OidcProvider
) -> None:
    sign_in(client, provider, sub="alice")
    other = app.test_client()
    sign_in(other, provider, sub="bob")
    response = client.post("/sign-out", data={"csrf_token": csrf_token_of(other.get("/"))})
    assert response.status_code == 403
    assert "signed in as" in client.get("/").text


def test_each_sign_in_gets_a_new_csrf_token(client: FlaskClient, provider: OidcProvider) -> None:
    sign_in(client, provider, sub="alice")
    first = csrf_token_of(client.get("/"))
    assert csrf_token_of(client.get("/")) == first  # the same for the whole session
    sign_in(client, provider, sub="alice")
    second = csrf_token_of(client.get("/"))
    assert second != first
    response = client.post("/sign-out", data={"csrf_token": first})
    assert response.status_code == 403
    assert "signed in as" in client.get("/").text


def test_get_sign_out_signs_nobody_out(client: FlaskClient, provider: OidcProvider) -> None:
    sign_in(client, provider)
    assert client.get("/sign-out").status_code == 405
    assert "signed in as" in client.get("/").text


def test_discovery_is_read_once_per_process(
    app: Flask, provider: OidcProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logto_client, "_oidc_cores", {})
    reads: list[str] = []
    read_metadata = OidcCore.getProviderMetadata

    async def counting_read(url: str):
        reads.append(url)
        return await read_metadata(url)

    monkeypatch.setattr(OidcCore, "getProviderMetadata", counting_read)
    sign_in(app.test_client(), provider, sub="alice")
    sign_in(app.test_client(), provider, sub="bob")
    assert reads == [f"{provider.endpoint}/oidc/.well-known/openid-configuration"]


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "http://127.0.0.1:8001", "https://127.0.0.1:8000"],
)
def test_sign_out_from_another_origin_is_refused(
    client: FlaskClient, provider: OidcProvider, origin: str
) -> None:
    sign_in(client, provider)
    token = csrf_token_of(client.get("/"))
    response = client.post("/sign-out", data={"csrf_token": token}, headers={"Origin": origin})
    assert response.status_code == 403
    assert "signed in as" in client.get("/").text


def test_sign_out_from_this_apps_origin_signs_out(
    client: FlaskClient, provider: OidcProvider
) -> None:
    sign_in(client, provider)
    token = csrf_token_of(client.get("/"))
    response = client.post("/sign-out", data={"csrf_token": token}, headers={"Origin": BASE_URL})
    assert response.status_code == 303
    assert "not signed in" in client.get("/").text


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://App.Example/", "https://app.example"),
        ("https://app.example:443/app", "https://app.example"),
        ("https://app.example:8443", "https://app.example:8443"),
    ],
)
def test_the_origin_of_base_url(base_url: str, origin: str) -> None:
    assert origin_of(base_url) == origin
