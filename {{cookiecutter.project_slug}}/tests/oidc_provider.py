"""A real OpenID Connect provider for the tests, laid out like Logto.

It runs PyPI's `oidc-provider-mock` in its own process, mounted under `/oidc` so that the
SDK finds discovery at `{LOGTO_ENDPOINT}/oidc/.well-known/openid-configuration` and the
issuer is `{LOGTO_ENDPOINT}/oidc`, as on a Logto server. Any client id and secret are
accepted; a test signs a user in by posting their subject to the authorization form.
"""

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

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
    from joserfc import jwt
    from joserfc.jwk import JWKRegistry, Key
    from oidc_provider_mock._app import OpenIDCode, RefreshTokenGrant
    from oidc_provider_mock._storage import Client
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.serving import make_server

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

    class MountedRequest(flask.Request):
        @property
        def host_url(self) -> str:
            # The mock names its issuer after host_url; Logto's issuer includes /oidc.
            return self.url_root

    provider = oidc_provider_mock.app(access_token_max_age=lifetime)
    provider.request_class = MountedRequest

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
