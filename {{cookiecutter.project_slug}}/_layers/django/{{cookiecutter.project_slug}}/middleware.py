"""Django's session middleware, answering 503 when the session store is down."""

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse

from .errors import SessionStoreUnavailable, session_store_unavailable


class SessionMiddleware(DjangoSessionMiddleware):
    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, SessionStoreUnavailable):
            return session_store_unavailable(request)
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not request.session.accessed:
            # A view that never read the session (/healthz) leaves it and its store alone,
            # even though SESSION_SAVE_EVERY_REQUEST would save it again.
            return response
        # The session is saved here, after the view: the store may fail then too.
        try:
            return super().process_response(request, response)
        except SessionStoreUnavailable:
            return session_store_unavailable(request)
