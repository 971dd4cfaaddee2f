"""Headers on every response: what a browser may do with the app's pages, who may cache them."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .session_middleware import SCOPE_KEY, AppSession

# No `form-action`: the sign-out form's POST is redirected to Logto's end-session URL, which
# browsers would check against it. The pages' one inline <style> needs 'unsafe-inline'.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Their every answer is one visitor's: their tokens, their profile, their sign-in.
PRIVATE_PATHS = frozenset(
    {"/profile", "/sign-in", "/callback", "/sign-out", "/backchannel-logout"}
    | {"/tokens", "/call-api", "/sessions"}
)
PRIVATE_PREFIXES = ("/sessions/",)  # the forms that end sessions
HOME = "/"  # the same for every anonymous visitor; one visitor's own once they have a session


class ResponseHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(SECURITY_HEADERS)
                path = scope["path"]
                if path == HOME:
                    headers.add_vary_header("Cookie")
                    session: AppSession | None = scope.get(SCOPE_KEY)
                    if session is not None and session.id is not None:
                        headers["Cache-Control"] = "no-store"
                elif path in PRIVATE_PATHS or path.startswith(PRIVATE_PREFIXES):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
