"""The bundled provider's API resources and organizations, and the protected API, driven
through the Logto SDK in a baked project (tests/sdk_flow.py does the driving)."""

import json
from pathlib import Path

import pytest

from .conftest import run

API = "https://api.example.com"
OTHER_API = "https://other.example.com"


@pytest.fixture(scope="module")
def seen(baked) -> dict:
    project = baked("flask", "memory")
    script = Path(__file__).with_name("sdk_flow.py")
    result = run(["uv", "run", "python", "-W", "ignore", str(script)], project, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_sign_in_asks_for_the_resources_and_the_id_token_names_the_organizations(seen) -> None:
    assert sorted(seen["resources_asked"]) == [
        API,
        OTHER_API,
        "urn:logto:resource:organizations",
    ]
    assert seen["id_token"]["organizations"] == ["org-1"]


def test_a_refresh_for_a_resource_answers_a_jwt_for_that_audience(seen) -> None:
    token = seen["resource_token"]
    assert token["aud"] == API
    assert token["scope"] == "read:items"  # asked at sign-in and defined by the resource
    assert token["sub"] == "alice"
    assert token["client_id"] == "sdk-flow"
    assert token["iss"].endswith("/oidc")
    assert token["exp"] - token["iat"] == 600
    assert seen["resource_token_header"]["alg"] == "RS256"
    assert seen["resource_token_header"]["kid"]
    assert seen["userinfo_after"] == "alice"  # the userinfo token still works


def test_an_organization_token_for_a_member_only(seen) -> None:
    token = seen["organization_token"]
    assert token["aud"] == "urn:logto:organization:org-1"
    assert token["scope"] == "read:org"
    assert token["sub"] == "alice"
    assert seen["non_member"] == "invalid_grant"
    assert seen["no_organizations_scope"] == "invalid_grant"


def test_a_plain_refresh_answers_userinfo_tokens_and_keeps_the_refresh_token(seen) -> None:
    first, second = seen["plain_refresh"]
    assert first["id_token"] == second["id_token"] == "alice"
    assert not first["access_token"].startswith("eyJ")  # opaque, for userinfo
    assert first["access_token"] != second["access_token"]


def test_unknown_resources_are_refused_at_refresh_and_at_sign_in(seen) -> None:
    assert seen["removed_resource"] == "invalid_target"
    assert seen["sign_in_removed"]["error"] == ["invalid_target"]
    assert seen["sign_in_removed"]["state"]


def test_the_protected_api_checks_audience_signature_and_expiry(seen) -> None:
    assert seen["api_resource"] == [200, {"sub": "alice", "scope": "read:items"}]
    assert seen["api_organization"] == [401, {"error": "invalid_token"}]
    assert seen["api_anonymous"] == [401, {"error": "invalid_token"}]
    assert seen["api_expired"] == [401, {"error": "invalid_token"}]
