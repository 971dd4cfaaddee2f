"""The app's middleware: its Content-Security-Policy, and Django's session middleware with
sliding expiry at little cost, answering 503 when the session store is down."""

import time

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin
from django.utils.http import http_date

from .errors import SessionStoreUnavailable, session_store_unavailable
from .session_engine import SESSION_ID
from .session_index import CLAIMS_KEY, index_ids


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """settings.CONTENT_SECURITY_POLICY on every response that has none of its own."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class SessionMiddleware(DjangoSessionMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if session_key is not None and not SESSION_ID.fullmatch(session_key):
            # No id this app makes (Django only checks the length): no session is looked
            # up, so no cookie can name one of the store's other records.
            session_key = None
        request.session = self.SessionStore(session_key)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, SessionStoreUnavailable):
            return session_store_unavailable(request, exception)
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = request.session
        if not session.accessed:
            # A view that never read the session (/healthz) leaves it and its store alone.
            return response
        # The session is saved here, after the view: the store may fail then too.
        try:
            if session.modified or session.is_empty() or response.status_code >= 500:
                # Changed or emptied: Django's middleware saves it, or deletes its cookie.
                return super().process_response(request, response)
            # Unchanged, the usual case: at most its expiry is pushed back.
            if session.due_for_extension():
                claims = session.get(CLAIMS_KEY)
                session.extend(index_ids(claims) if claims else ())
                set_session_cookie(response, session.session_key)
            elif session.session_key != request.COOKIES.get(settings.SESSION_COOKIE_NAME):
                # Saved by the view under a new id (sign-in): the browser needs the id.
                set_session_cookie(response, session.session_key)
        except SessionStoreUnavailable as error:
            return session_store_unavailable(request, error)
        add_vary_cookie(response)
        return response


def add_vary_cookie(response: HttpResponse) -> None:
    """What Django's middleware says of a response that read the session.

    patch_vary_headers() parses and rewrites the header, ~4 µs a request; the home page,
    which every visit loads, says exactly this already.
    """
    if response.get("Vary") != "Cookie":
        patch_vary_headers(response, ("Cookie",))


def set_session_cookie(response: HttpResponse, session_key: str) -> None:
    """The cookie expires with the stored session, so it slides along with it."""
    response.set_cookie(
        settings.SESSION_COOKIE_NAME,
        session_key,
        max_age=settings.SESSION_COOKIE_AGE,
        expires=http_date(time.time() + settings.SESSION_COOKIE_AGE),
        domain=settings.SESSION_COOKIE_DOMAIN,
        path=settings.SESSION_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE or None,
        httponly=settings.SESSION_COOKIE_HTTPONLY or None,
        samesite=settings.SESSION_COOKIE_SAMESITE,
    )
