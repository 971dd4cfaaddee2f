"""A tiny API protected by Logto access tokens, for the tests that call an API.

`with ProtectedApi.run(endpoint=provider.endpoint, audience=indicator) as api:` serves
`api.url` on 127.0.0.1. A GET with `Authorization: Bearer <token>` is answered 200 with JSON
`{"sub": ..., "scope": ...}` when the token is a JWT signed by one of the provider's keys
(its JWKS, found through discovery) for that issuer and audience and not expired; anything
else is answered 401 with JSON `{"error": "invalid_token"}`. This is how an API checks the
tokens Logto issues for its resource indicator.
"""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt


class ProtectedApi:
    def __init__(self, url: str) -> None:
        self.url = url

    @classmethod
    @contextmanager
    def run(cls, endpoint: str, audience: str) -> Iterator["ProtectedApi"]:
        """Serve the API for tokens of `audience` issued by the Logto at `endpoint`."""
        discovery = f"{endpoint}/oidc/.well-known/openid-configuration"
        metadata = httpx.get(discovery, timeout=10).raise_for_status().json()
        keys = jwt.PyJWKClient(metadata["jwks_uri"])
        issuer = metadata["issuer"]

        def claims(authorization: str) -> dict:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise jwt.InvalidTokenError("no bearer token")
            return jwt.decode(
                token,
                keys.get_signing_key_from_jwt(token).key,
                algorithms=["RS256"],
                audience=audience,
                issuer=issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                try:
                    token = claims(self.headers.get("Authorization", ""))
                except jwt.PyJWTError:
                    self.answer(401, {"error": "invalid_token"})
                else:
                    self.answer(200, {"sub": token["sub"], "scope": token.get("scope", "")})

            def answer(self, status: int, body: dict) -> None:
                content = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the tests' output clean

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield cls(f"http://127.0.0.1:{server.server_port}/")
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
