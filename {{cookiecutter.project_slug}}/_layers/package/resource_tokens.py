"""What the tokens page shows of an access token, and why Logto gave none; every framework
alike. The page shows a token's claims, never the token.
"""

import json
from dataclasses import dataclass

import jwt
from logto import LogtoException
from logto.models.oidc import UserInfoScope
from logto.utilities import OrganizationUrnPrefix

from .devices import timestamp

ORGANIZATIONS_SCOPE = UserInfoScope.organizations.value  # "urn:logto:scope:organizations"


def setting_list(value: str | None) -> list[str]:
    """A setting that lists names, separated by spaces or commas, without repeats."""
    return list(dict.fromkeys((value or "").replace(",", " ").split()))


def resource_problem(indicator: str) -> str | None:
    """Why `indicator` cannot be an API resource indicator (RFC 8707: an absolute URI
    without a fragment), or None."""
    scheme, _, rest = indicator.partition("://")
    if not (scheme.isalpha() and rest) or "#" in indicator:
        return f"{indicator!r} is not an absolute URI without a fragment"
    return None


def sign_in_scopes(scopes: list[str], organization_scopes: list[str]) -> list[str | UserInfoScope]:
    """The scopes sign-in asks for beyond the SDK's own: organization scopes bring Logto's
    organizations scope (the organization IDs in the ID token, organization tokens).

    The SDK knows that scope only as its enum member: given as a string, sign-in would not
    ask for Logto's organizations resource and organization tokens would be refused.
    """
    if organization_scopes:
        scopes = [*scopes, ORGANIZATIONS_SCOPE, *organization_scopes]
    return [
        UserInfoScope.organizations if name == ORGANIZATIONS_SCOPE else name
        for name in dict.fromkeys(scopes)
    ]


def organizations_enabled(scopes: list[str | UserInfoScope]) -> bool:
    return UserInfoScope.organizations in scopes or ORGANIZATIONS_SCOPE in scopes


def organization_resource(organization_id: str) -> str:
    """The SDK's name of an organization's token in its token cache."""
    return OrganizationUrnPrefix + organization_id


@dataclass(frozen=True)
class TokenSummary:
    audience: str
    scopes: str
    expires: str


def token_summary(access_token: str) -> TokenSummary:
    """The non-secret claims of an access token Logto has just issued (over TLS, to this
    app): read, not verified; the API that receives the token verifies it. A token that is
    not a JWT shows as such."""
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.DecodeError:
        # Logto issues JWTs for API resources; another provider may not.
        return TokenSummary(audience="(not a JWT)", scopes="(unknown)", expires="(unknown)")
    audience = claims.get("aud", "")
    return TokenSummary(
        audience=" ".join(audience) if isinstance(audience, list) else str(audience),
        scopes=str(claims.get("scope") or "(none)"),
        expires=timestamp(claims["exp"]) if "exp" in claims else "(no expiry)",
    )


def refusal_reason(error: LogtoException) -> str:
    """Logto's OAuth error code for a refused token request (`invalid_target`), or the
    start of its message."""
    message = str(error)
    try:
        return str(json.loads(message)["error"])
    except (ValueError, KeyError, TypeError):
        return message[:200] or "refused"
