"""`/sign-in?next=` returns to a page of this app after sign-in, and never elsewhere."""

import pytest
from fastapi.testclient import TestClient

from .flow import sign_in
from .oidc_provider import OidcProvider


def test_without_next_sign_in_lands_on_the_profile(
    client: TestClient, provider: OidcProvider
) -> None:
    assert sign_in(client, provider).headers["location"] == "/profile"


@pytest.mark.parametrize("target", ["/", "/profile?tab=claims", "/some/path#part"])
def test_sign_in_returns_to_a_path_of_this_app(
    client: TestClient, provider: OidcProvider, target: str
) -> None:
    assert sign_in(client, provider, next_path=target).headers["location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "evil.example",
        "",
    ],
)
def test_sign_in_never_returns_to_another_site(
    client: TestClient, provider: OidcProvider, target: str
) -> None:
    assert sign_in(client, provider, next_path=target).headers["location"] == "/"
