"""A real OpenID Connect provider for the tests, laid out like Logto.

It runs PyPI's `oidc-provider-mock` in its own process, mounted under `/oidc` so that the
SDK finds discovery at `{LOGTO_ENDPOINT}/oidc/.well-known/openid-configuration` and the
issuer is `{LOGTO_ENDPOINT}/oidc`, as on a Logto server. Any client id and secret are
accepted; a test signs a user in by posting their subject to the authorization form.

Like Logto, it knows API resources and organizations:

- `provider.add_resource("https://api.example.com", scopes=["read:items"])` defines an API
  resource (RFC 8707); `remove_resource` deletes it. An authorization request that names an
  unknown resource is sent back to the app with `error=invalid_target`.
- A refresh grant with `resource=<indicator>` answers a JWT access token for that resource
  (`aud` = the indicator, `scope` = the granted scopes the resource defines); an unknown one
  is a 400 `invalid_target`.
- A refresh grant with `organization_id=<id>` (what the SDK sends for an organization token)
  answers a JWT with `aud` = `urn:logto:organization:<id>` when the user's `organizations`
  claim (`provider.authorize(url, sub, organizations=["org-1"])`) has the id and sign-in
  granted `urn:logto:scope:organizations`; otherwise a 400 `invalid_grant`. Its `scope` is
  the granted scopes that are neither OIDC's, Logto's own, nor an API resource's.

A plain refresh (no resource) answers an opaque access token for userinfo and a new ID token,
and keeps the refresh token valid (no new one is issued).
"""

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx


class OidcProvider:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.http = httpx.Client(timeout=10)

    @classmethod
    @contextmanager
    def run(cls, token_lifetime: int = 3600) -> Iterator["OidcProvider"]:
        """Start the provider; its access and ID tokens live `token_lifetime` seconds."""
        command = [sys.executable, "-W", "ignore", __file__, str(token_lifetime)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            port = int(process.stdout.readline())
            yield cls(f"http://127.0.0.1:{port}")
        finally:
            process.terminate()
            process.wait(timeout=10)

    def authorize(self, authorization_url: str, sub: str = "alice", **claims: object) -> str:
        """Sign `sub` in at the provider's login form; returns the app's callback URL."""
        if claims:
            self.http.put(f"{self.endpoint}/oidc/users/{sub}", json=claims).raise_for_status()
        response = self.http.post(authorization_url, data={"sub": sub})
        assert response.status_code == 302, response.text
        return response.headers["location"]

    def end_session(self, end_session_url: str) -> str:
        """Confirm sign-out at the provider; returns where it sends the browser back to."""
        query = parse_qs(urlsplit(end_session_url).query)
        response = self.http.post(
            f"{self.endpoint}/oidc/oauth2/end_session/confirm",
            data={"redirect_uri": query["post_logout_redirect_uri"][0]},
        )
        assert response.status_code == 302, response.text
        return response.headers["location"]

    def logout_token(self, app_id: str, sub: str | None = "alice", **claims: object) -> str:
        """A back-channel logout token as Logto sends it, signed with the provider's key.

        Keyword arguments add or replace claims; a claim given as None is left out.
        """
        now = int(time.time())
        payload = {
            "iss": f"{self.endpoint}/oidc",
            "aud": app_id,
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
            "sub": sub,
            **claims,
        }
        payload = {name: value for name, value in payload.items() if value is not None}
        response = self.http.post(f"{self.endpoint}/oidc/test/sign-logout-token", json=payload)
        response.raise_for_status()
        return response.text

    def add_resource(self, indicator: str, scopes: Sequence[str] = ()) -> None:
        """Define an API resource and the scopes it knows, as an admin would in Logto."""
        body = {"indicator": indicator, "scopes": list(scopes)}
        self.http.put(f"{self.endpoint}/oidc/test/resources", json=body).raise_for_status()

    def remove_resource(self, indicator: str) -> None:
        """Delete an API resource: Logto then refuses its tokens with `invalid_target`."""
        body = {"indicator": indicator}
        response = self.http.request("DELETE", f"{self.endpoint}/oidc/test/resources", json=body)
        response.raise_for_status()

    def revoke_tokens(self, sub: str) -> None:
        """Revoke every access and refresh token of `sub`, as an admin would in Logto."""
        response = self.http.post(f"{self.endpoint}/oidc/users/{sub}/revoke-tokens")
        response.raise_for_status()


def serve(token_lifetime: int) -> None:
    """Serve the provider on a free port of 127.0.0.1 and print the port."""
    import hashlib
    from datetime import timedelta

    import flask
    import oidc_provider_mock
    from authlib.oauth2 import OAuth2Error
    from authlib.oauth2.rfc6749 import InvalidGrantError
    from joserfc import jwt
    from joserfc.jwk import JWKRegistry, Key
    from oidc_provider_mock._app import OpenIDCode, RefreshTokenGrant
    from oidc_provider_mock._storage import Client, RefreshToken, User
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Response

    lifetime = timedelta(seconds=token_lifetime)
    sign_config = OpenIDCode.get_jwt_config
    signing_keys: dict[str, Key] = {}

    def signing_key(jwk: dict) -> Key:
        # Importing an RSA private key checks it, which takes tens of milliseconds; the
        # mock would import its one key again for every token it signs.
        if jwk["kid"] not in signing_keys:
            signing_keys[jwk["kid"]] = JWKRegistry.import_key(jwk)
        return signing_keys[jwk["kid"]]

    def sign_like_logto(self: OpenIDCode, grant: object, client: Client) -> dict:
        # Logto's ID tokens name their key (`kid`), which the SDK's JWKS client needs,
        # and carry the app id as a string `aud`, which the SDK's claims model needs.
        # Logto also names the sign-in session (`sid`) when the app requires sessions;
        # here each authorization code starts one.
        config = sign_config(self, grant, client)
        key = config["key"]
        config |= {"key": signing_key(key), "kid": key["kid"], "aud": client.get_client_id()}
        if code := flask.request.form.get("code"):
            config["sid"] = hashlib.sha256(code.encode()).hexdigest()[:32]
        return config

    OpenIDCode.get_jwt_config = sign_like_logto
    client_claims = OpenIDCode.get_client_claims

    def claims_without_kid(self: OpenIDCode, client: Client) -> dict:
        # authlib copies every signing option into the claims; `kid` belongs in the header.
        return {name: value for name, value in client_claims(self, client).items() if name != "kid"}

    OpenIDCode.get_client_claims = claims_without_kid

    # Logto accepts the client secret in the body for refreshes too, and answers with a
    # new ID token; the mock would do neither.
    RefreshTokenGrant.TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    init_refresh = RefreshTokenGrant.__init__
    id_token_on_refresh = OpenIDCode(require_nonce=False, token_max_age=lifetime)

    def init_refresh_with_id_token(self: RefreshTokenGrant, *args: object) -> None:
        init_refresh(self, *args)
        id_token_on_refresh(self)

    RefreshTokenGrant.__init__ = init_refresh_with_id_token

    # API resources (indicator -> the scopes it defines), set by the tests.
    resources: dict[str, list[str]] = {}
    organizations_scope = "urn:logto:scope:organizations"
    # Logto's reserved resource: the SDK asks for it at sign-in when organizations are on.
    organizations_resource = "urn:logto:resource:organizations"
    # Scopes of OIDC and Logto itself, never a scope of an organization token.
    reserved_scopes = {"openid", "offline_access", "profile", "email", "phone", "address"}
    reserved_scopes |= {"custom_data", "identities", "roles"}

    def grant_every_scope(self: Client, scope: str | Sequence[str]) -> str:
        # The mock grants only OIDC's own scopes; Logto also grants `offline_access`, its
        # organization scopes and the scopes of API resources and organizations.
        return scope if isinstance(scope, str) else " ".join(scope)

    Client.get_allowed_scope = grant_every_scope

    class InvalidTargetError(OAuth2Error):
        error = "invalid_target"  # RFC 8707

    def sign_access_token(claims: dict) -> str:
        key = signing_key(flask.g.oidc_provider_mock_storage.jwk.as_dict(True))
        header = {"alg": "RS256", "kid": key.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, key)

    def audience_and_scope(form: dict, token: RefreshToken, user: User) -> tuple[str, str]:
        """What a refresh grant for a resource or an organization asks for, as Logto
        answers it; raises the OAuth error Logto would refuse it with."""
        granted = form.get("scope", token.get_scope()).split()
        if organization_id := form.get("organization_id"):
            # Logto refuses these with 403 `access_denied` and 400 `insufficient_scope`;
            # the SDK and the apps treat every refusal alike.
            if organization_id not in (user.claims.get("organizations") or []):
                raise InvalidGrantError("user is not a member of the organization")
            if organizations_scope not in granted:
                raise InvalidGrantError(f"refresh token missing scope {organizations_scope}")
            resource_scopes = {name for scopes in resources.values() for name in scopes}
            scopes = [
                name
                for name in granted
                if name not in reserved_scopes
                and not name.startswith("urn:logto:")
                and name not in resource_scopes
            ]
            return f"urn:logto:organization:{organization_id}", " ".join(scopes)
        indicator = form["resource"]
        if indicator not in resources:
            raise InvalidTargetError(f"resource indicator {indicator!r} is unknown")
        return indicator, " ".join(name for name in granted if name in resources[indicator])

    refresh_for_userinfo = RefreshTokenGrant.create_token_response

    def refresh_for_resource(self: RefreshTokenGrant) -> tuple:
        # Logto answers a refresh grant with `resource` or `organization_id` with a JWT
        # access token for that audience (and a new ID token, as for any refresh); the
        # mock knows only opaque tokens for its own userinfo. The userinfo token stays
        # valid, as in Logto.
        form = self.request.form
        if not (form.get("resource") or form.get("organization_id")):
            return refresh_for_userinfo(self)
        refresh_token = self.request.refresh_token
        user = self.authenticate_user(refresh_token)
        audience, scope = audience_and_scope(form, refresh_token, user)
        now = int(time.time())
        claims = {
            "jti": uuid.uuid4().hex,
            "iss": flask.request.host_url.rstrip("/"),
            "sub": user.sub,
            "aud": audience,
            "client_id": self.request.client.get_client_id(),
            "scope": scope,
            "iat": now,
            "exp": now + token_lifetime,
        }
        token = {
            "token_type": "Bearer",
            "access_token": sign_access_token(claims),
            "expires_in": token_lifetime,
            "scope": scope,
        }
        self.request.user = user
        id_token_claims = {**token, "scope": refresh_token.get_scope()}
        token["id_token"] = id_token_on_refresh.encode_id_token(id_token_claims, self.request)
        return 200, token, self.TOKEN_RESPONSE_HEADER

    RefreshTokenGrant.create_token_response = refresh_for_resource

    class MountedRequest(flask.Request):
        @property
        def host_url(self) -> str:
            # The mock names its issuer after host_url; Logto's issuer includes /oidc.
            return self.url_root

    provider = oidc_provider_mock.app(access_token_max_age=lifetime)
    provider.request_class = MountedRequest

    @provider.before_request
    def refuse_unknown_resources() -> Response | None:
        # Logto checks an authorization request's resource indicators (RFC 8707) and sends
        # the browser back to the app with `invalid_target`; the mock ignores them.
        if flask.request.endpoint != "oidc-provider-mock.authorize":
            return None
        known = {*resources, organizations_resource}
        unknown = [name for name in flask.request.args.getlist("resource") if name not in known]
        if not unknown or "redirect_uri" not in flask.request.args:
            return None
        error = {
            "error": "invalid_target",
            "error_description": f"resource indicator {unknown[0]!r} is unknown",
        }
        if state := flask.request.args.get("state"):
            error["state"] = state
        redirect_uri = flask.request.args["redirect_uri"]
        separator = "&" if "?" in redirect_uri else "?"
        return flask.redirect(f"{redirect_uri}{separator}{urlencode(error)}")

    @provider.put("/test/resources")
    def add_resource() -> tuple[str, int]:
        body = flask.request.get_json()
        resources[body["indicator"]] = list(body["scopes"])
        return "", 204

    @provider.delete("/test/resources")
    def remove_resource() -> tuple[str, int]:
        resources.pop(flask.request.get_json()["indicator"], None)
        return "", 204

    @provider.post("/test/sign-logout-token")
    def sign_logout_token() -> str:
        # Logto signs logout tokens with the keys it signs ID tokens with.
        key = signing_key(flask.g.oidc_provider_mock_storage.jwk.as_dict(True))
        header = {"alg": "RS256", "kid": key.kid, "typ": "logout+jwt"}
        return jwt.encode(header, flask.request.get_json(), key)

    app = DispatcherMiddleware(NotFound(), {"/oidc": provider})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 3600)
