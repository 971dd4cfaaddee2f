"""Validation of the logout tokens that Logto posts to the back-channel logout URI.

OpenID Connect Back-Channel Logout 1.0, section 2.6: the token is a JWT signed with the
provider's keys (the JWKS that ID tokens are checked against), issued by the provider for
this app, recent, expiring (`exp` is required), carrying the back-channel logout event,
naming a user (`sub`) and/or a provider session (`sid`), and never a `nonce` (so that an ID
token cannot pass as one).
"""

import time
from dataclasses import dataclass

import jwt
from logto.OidcCore import OidcCore

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
SIGNING_ALGORITHMS = ["RS256", "PS256", "ES256", "ES384", "ES512"]
MAX_AGE = 300  # seconds a logout token may be old
LEEWAY = 30  # seconds of clock skew tolerated


class InvalidLogoutTokenError(Exception):
    """The logout token must not be acted on; the message says why."""


@dataclass(frozen=True)
class LogoutToken:
    sub: str | None
    sid: str | None
    jti: str
    exp: int  # until when its `jti` must be remembered, to refuse a replay


def validate_logout_token(token: str, core: OidcCore, app_id: str) -> LogoutToken:
    try:
        key = core.jwksClient.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=SIGNING_ALGORITHMS,
            audience=app_id,
            issuer=core.metadata.issuer,
            leeway=LEEWAY,
            options={"require": ["iss", "aud", "iat", "exp", "jti", "events"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidLogoutTokenError(str(error)) from error
    if claims["iat"] < time.time() - MAX_AGE - LEEWAY:
        raise InvalidLogoutTokenError("the token is too old")
    events = claims["events"]
    if not isinstance(events, dict) or not isinstance(events.get(LOGOUT_EVENT), dict):
        raise InvalidLogoutTokenError("the token lacks the back-channel logout event")
    if "nonce" in claims:
        raise InvalidLogoutTokenError("a logout token must not hold a nonce")
    sub, sid = claims.get("sub"), claims.get("sid")
    if not (isinstance(sub, str) and sub) and not (isinstance(sid, str) and sid):
        raise InvalidLogoutTokenError("the token names neither a user (sub) nor a session (sid)")
    return LogoutToken(
        sub=sub or None,
        sid=sid or None,
        jti=str(claims["jti"]),
        exp=int(claims["exp"]),
    )
