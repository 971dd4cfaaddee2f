"""The app's middleware: its Content-Security-Policy, Django's session middleware with
this app's session ids and sliding expiry, and `request.logto_user`."""

from functools import partial

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import SimpleLazyObject

from .auth import aget_user, get_user
from .errors import SessionStoreUnavailable, session_store_unavailable
from .session_engine import SESSION_ID


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """settings.CONTENT_SECURITY_POLICY on every response that has none of its own."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, but a cookie that holds no id of this app's format names no session, an
    unchanged session's expiry slides now and then (session_engine.py), and a session store
    that is down is a 503 page."""

    def process_request(self, request: HttpRequest) -> None:
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if session_key is not None and not SESSION_ID.fullmatch(session_key):
            # Django only checks the length: no cookie may name one of the store's other
            # records, and nothing is looked up for it.
            session_key = None
        request.session = self.SessionStore(session_key)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, SessionStoreUnavailable):
            return session_store_unavailable(request, exception)
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = request.session
        # The session is saved here, after the view: the store may fail then too.
        try:
            if session.accessed and not session.modified and session.touch_due():
                # Django's middleware saves it then (a save that only touches it: see
                # session_engine.py) and sends the cookie again.
                session.touch_pending = session.modified = True
            return super().process_response(request, response)
        except SessionStoreUnavailable as error:
            return session_store_unavailable(request, error)


class LogtoUserMiddleware(MiddlewareMixin):
    """`request.logto_user`: the signed-in user's ID token claims, or None, read from the
    session when first used; `await request.alogto_user()` in async views. As Django's
    AuthenticationMiddleware makes `request.user` and `request.auser()`."""

    def process_request(self, request: HttpRequest) -> None:
        request.logto_user = SimpleLazyObject(partial(get_user, request))
        request.alogto_user = partial(aget_user, request)
