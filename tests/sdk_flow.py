"""Drive the Logto SDK through the bundled provider and API; print what happened as JSON.

Run by tests/test_provider.py in a baked project's virtualenv, from the project's root:
`uv run python <this file>`. It imports the project's `tests/oidc_provider.py` and
`tests/protected_api.py`, the pieces every generated project's tests sign in with.
"""

import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from logto import LogtoClient, LogtoConfig, LogtoException
from logto.models.oidc import UserInfoScope
from logto.Storage import Storage

sys.path.insert(0, str(Path.cwd() / "tests"))
from oidc_provider import OidcProvider
from protected_api import ProtectedApi

API = "https://api.example.com"
OTHER_API = "https://other.example.com"
REDIRECT_URI = "http://127.0.0.1:9/callback"


class DictStorage(Storage):
    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def set(self, key: str, value: str | None) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def refusal(error: LogtoException) -> str:
    return json.loads(str(error))["error"]


async def signed_in(
    provider: OidcProvider, scopes: list, **user: object
) -> tuple[LogtoClient, str]:
    """A client of the SDK signed in at the provider, and the sign-in URL it made."""
    config = LogtoConfig(
        endpoint=provider.endpoint,
        appId="sdk-flow",
        appSecret="secret",
        scopes=scopes,
        resources=[API, OTHER_API],
    )
    client = LogtoClient(config, DictStorage())
    sign_in_url = await client.signIn(REDIRECT_URI)
    await client.handleSignInCallback(provider.authorize(sign_in_url, **user))
    return client, sign_in_url


async def main() -> dict:
    seen: dict = {}
    with OidcProvider.run(token_lifetime=600) as provider:
        provider.add_resource(API, scopes=["read:items", "write:items"])
        provider.add_resource(OTHER_API, scopes=["other:read"])
        scopes = ["email", "read:items", UserInfoScope.organizations, "read:org"]
        alice, sign_in_url = await signed_in(provider, scopes, sub="alice", organizations=["org-1"])
        seen["resources_asked"] = parse_qs(urlsplit(sign_in_url).query)["resource"]
        seen["id_token"] = claims(alice.getIdToken())

        token = await alice.getAccessToken(API)
        seen["resource_token"] = claims(token)
        seen["resource_token_header"] = jwt.get_unverified_header(token)
        seen["userinfo_after"] = (await alice.fetchUserInfo()).sub
        organization_token = await alice.getOrganizationToken("org-1")
        seen["organization_token"] = claims(organization_token)
        try:
            await alice.getOrganizationToken("org-2")
        except LogtoException as error:
            seen["non_member"] = refusal(error)

        core = await alice.getOidcCore()
        refresh_token = alice.getRefreshToken()
        plain = [
            await core.fetchTokenByRefreshToken("sdk-flow", "secret", refresh_token)
            for _ in range(2)
        ]
        seen["plain_refresh"] = [
            {"id_token": claims(answer.id_token)["sub"], "access_token": answer.access_token}
            for answer in plain
        ]

        bob, _ = await signed_in(provider, ["read:items"], sub="bob", organizations=["org-1"])
        try:
            await (await bob.getOidcCore()).fetchTokenByRefreshToken(
                "sdk-flow", "secret", bob.getRefreshToken(), "urn:logto:organization:org-1"
            )
        except LogtoException as error:
            seen["no_organizations_scope"] = refusal(error)

        with ProtectedApi.run(endpoint=provider.endpoint, audience=API) as api:
            for name, bearer in [("resource", token), ("organization", organization_token)]:
                answer = httpx.get(api.url, headers={"Authorization": f"Bearer {bearer}"})
                seen[f"api_{name}"] = [answer.status_code, answer.json()]
            answer = httpx.get(api.url)
            seen["api_anonymous"] = [answer.status_code, answer.json()]

        provider.remove_resource(OTHER_API)
        try:
            await alice.getAccessToken(OTHER_API)
        except LogtoException as error:
            seen["removed_resource"] = refusal(error)
        callback = provider.authorize(await alice.signIn(REDIRECT_URI), sub="alice")
        seen["sign_in_removed"] = parse_qs(urlsplit(callback).query)

    with OidcProvider.run(token_lifetime=1) as provider:
        provider.add_resource(API)
        provider.add_resource(OTHER_API)
        client, _ = await signed_in(provider, [], sub="alice")
        token = await client.getAccessToken(API)
        with ProtectedApi.run(endpoint=provider.endpoint, audience=API) as api:
            time.sleep(2)
            answer = httpx.get(api.url, headers={"Authorization": f"Bearer {token}"})
            seen["api_expired"] = [answer.status_code, answer.json()]
    return seen


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
