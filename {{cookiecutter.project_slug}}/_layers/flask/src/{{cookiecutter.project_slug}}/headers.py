"""Headers of every response: what the browser may do with the page, and who may cache it."""

from flask import Flask, request, session
from werkzeug.wrappers import Response

# The pages load nothing from elsewhere and style themselves with an inline <style>. No
# form-action: the sign-out form's POST redirects to Logto's end-session URL, which
# Chromium checks against form-action.
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
# Routes whose every response belongs to one visitor's sign-in: no cache may keep them.
PRIVATE_ENDPOINTS = frozenset(
    {
        "pages.profile",
        "pages.tokens",
        "pages.call_api",
        "pages.devices",
        "pages.end_session",
        "pages.end_other_sessions",
        "pages.sign_in",
        "pages.callback",
        "pages.sign_out",
        "pages.backchannel_logout",
    }
)
HOME_ENDPOINT = "pages.index"


def register_response_headers(app: Flask) -> None:
    app.after_request(add_response_headers)


def add_response_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if request.endpoint == HOME_ENDPOINT:
        # One page for anonymous visitors, one of its own for each session (never to keep).
        response.vary.add("Cookie")
        if getattr(session, "sid", None) is not None:
            response.headers["Cache-Control"] = "no-store"
    elif request.endpoint in PRIVATE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response
