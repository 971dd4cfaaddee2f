"""Sign-out refuses a form posted from another origin, as it refuses one without the token."""

import pytest
from fastapi.testclient import TestClient

from .conftest import BASE_URL
from .flow import csrf_token, sign_in
from .oidc_provider import OidcProvider


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "http://127.0.0.1:8001", "https://127.0.0.1:8000"],
)
def test_sign_out_from_another_origin_is_refused_and_ends_nothing(
    client: TestClient, provider: OidcProvider, origin: str
) -> None:
    sign_in(client, provider)
    token = csrf_token(client)
    refused = client.post("/sign-out", data={"csrf_token": token}, headers={"Origin": origin})
    assert refused.status_code == 403
    assert "This form expired or did not come from this app" in refused.text
    assert client.get("/profile").status_code == 200


@pytest.mark.parametrize("origin", [BASE_URL, None])
def test_sign_out_from_the_app_itself_or_without_origin_signs_out(
    client: TestClient, provider: OidcProvider, origin: str | None
) -> None:
    sign_in(client, provider)
    headers = {"Origin": origin} if origin else {}
    signed_out = client.post("/sign-out", data={"csrf_token": csrf_token(client)}, headers=headers)
    assert signed_out.status_code == 303
    assert client.get("/profile").headers["location"] == "/sign-in"


def test_the_right_origin_does_not_replace_the_token(
    client: TestClient, provider: OidcProvider
) -> None:
    sign_in(client, provider)
    refused = client.post("/sign-out", data={"csrf_token": ""}, headers={"Origin": BASE_URL})
    assert refused.status_code == 403
    assert client.get("/profile").status_code == 200
