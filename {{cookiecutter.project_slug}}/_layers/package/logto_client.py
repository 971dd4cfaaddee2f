"""The Logto SDK, wired for a web app that builds one client per request.

`LogtoClient` caches the OIDC discovery document on the client instance; since every
request gets its own client (its storage is that request's session), this subclass keeps
the discovery document and the JWKS once per process instead.
"""

import asyncio
import time

import aiohttp
import jwt
import pydantic
from jwt import PyJWKClient
from logto import IdTokenClaims, LogtoClient, LogtoException
from logto.OidcCore import OidcCore

# Errors that mean "Logto did not answer as it should", as opposed to a bad request.
PROVIDER_ERRORS = (
    aiohttp.ClientError,
    TimeoutError,
    pydantic.ValidationError,
    jwt.PyJWKClientError,
)

LOGTO_TIMEOUT = 10  # seconds; the SDK sets no limit of its own on discovery
JWKS_HEADERS = {"user-agent": "@logto/python", "accept": "*/*"}

_oidc_cores: dict[str, OidcCore] = {}


class LogtoUnreachableError(Exception):
    """Logto's discovery document could not be fetched or made no sense."""


async def oidc_core(endpoint: str) -> OidcCore:
    """Logto's discovery document and JWKS client, fetched once per process."""
    if (core := _oidc_cores.get(endpoint)) is None:
        url = f"{endpoint}/oidc/.well-known/openid-configuration"
        try:
            async with asyncio.timeout(LOGTO_TIMEOUT):
                metadata = await OidcCore.getProviderMetadata(url)
        except (*PROVIDER_ERRORS, ValueError) as error:
            raise LogtoUnreachableError(f"cannot read {url}: {error!r}") from error
        core = OidcCore(metadata)
        # The SDK's JWKS client would wait 30 s for an answer and fetch the keys again every
        # 5 minutes; a token signed with a key it does not know yet makes it fetch anyway.
        core.jwksClient = PyJWKClient(
            metadata.jwks_uri, lifespan=24 * 3600, timeout=LOGTO_TIMEOUT, headers=JWKS_HEADERS
        )
        # Two first requests may race here; both fetch, one core is kept.
        core = _oidc_cores.setdefault(endpoint, core)
    return core


class AppLogtoClient(LogtoClient):
    async def getOidcCore(self) -> OidcCore:  # noqa: N802 (the SDK's name)
        return await oidc_core(self.config.endpoint)


def signed_in_claims(client: LogtoClient) -> IdTokenClaims | None:
    """The ID token's claims while it is valid, else None.

    The token's signature was verified when it was stored, so it is only decoded here.
    The SDK's `isAuthenticated()` would count an expired ID token as signed in.
    """
    if client.getIdToken() is None:
        return None
    try:
        claims = client.getIdTokenClaims()
    except (LogtoException, jwt.DecodeError, pydantic.ValidationError):
        return None
    return claims if claims.exp > time.time() else None
