"""The signed-in user's ID token claims, decoded once per ID token rather than per request.

The claims are kept in the session beside the token they came from, named by its
signature: a new ID token (sign-in, refresh) has a new signature, so its claims are
decoded afresh and the old ones are never served for it. A page gets them as the plain
dict they are kept as: nothing to decode or validate on a page view.
"""

import time
from collections.abc import Mapping, MutableMapping
from typing import Any

from .logto_client import AppLogtoClient, signed_in_claims

Claims = dict[str, Any]  # an ID token's claims: `sub`, `exp`, `name`, ...

CLAIMS_KEY = "id_token_claims"  # {"signature": <the ID token's>, "claims": {...}}


def current_claims(session: MutableMapping[str, Any], logto: AppLogtoClient) -> Claims | None:
    """The claims of the session's ID token while it is valid, else None."""
    id_token = logto.getIdToken()
    if id_token is None:
        return None
    signature = id_token.rpartition(".")[2]
    cached = session.get(CLAIMS_KEY)
    if cached is None or cached["signature"] != signature:
        if (decoded := signed_in_claims(logto)) is None:
            return None
        claims = decoded.model_dump()
        session[CLAIMS_KEY] = {"signature": signature, "claims": claims}
        return claims
    claims = cached["claims"]
    return claims if claims["exp"] > time.time() else None


def is_signed_in(session: Mapping[str, Any]) -> bool:
    """Whether the session has been through a sign-in's callback (its claims are kept there)."""
    return CLAIMS_KEY in session


def display_name(claims: Claims) -> str:
    """What the pages call the user: the first of their name, username, email and id."""
    return claims.get("name") or claims.get("username") or claims.get("email") or claims["sub"]
