"""Error pages: every failure a visitor can meet gets a page that says what happened."""

import threading

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.log import log_response


class SessionStoreUnavailable(Exception):  # noqa: N818 (named like Django's Http404)
    """The session store could not be reached; requests that need a session must wait."""


class StoreOutage:
    """Whether the session store has failed since it last answered.

    An outage logs one line per failed request, and the traceback only with its first
    failure: a store that is down for minutes must not fill the log with tracebacks.
    """

    def __init__(self) -> None:
        self.ongoing = False
        self._lock = threading.Lock()

    def begins(self) -> bool:
        """Record a failure; True for the first one since the store last answered."""
        with self._lock:
            first, self.ongoing = not self.ongoing, True
        return first

    def answered(self) -> None:
        """The store answered: the next failure is the first of a new outage."""
        if self.ongoing:  # a read on every store call; the lock only once per outage
            with self._lock:
                self.ongoing = False


store_outage = StoreOutage()


def error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    context = {"title": title, "message": message}
    return render(request, "{{ cookiecutter.project_slug }}/error.html", context, status=status)


def session_store_unavailable(request: HttpRequest, error: SessionStoreUnavailable) -> HttpResponse:
    # Name the kind of store only: its URL may hold credentials.
    kind = settings.SESSION_STORE["KIND"]
    response = error_page(
        request,
        503,
        "Service unavailable",
        f"The session store ({kind}) cannot be reached right now. Please try again shortly.",
    )
    # Said of this request's session, and only for now.
    add_never_cache_headers(response)
    patch_vary_headers(response, ("Cookie",))
    log_store_failure(request, response, error)
    return response


def log_store_failure(
    request: HttpRequest, response: HttpResponse, error: SessionStoreUnavailable
) -> None:
    """Log a request that failed for want of the store, in place of Django's own line."""
    kind = settings.SESSION_STORE["KIND"]
    log_response(
        "%s %s: the session store (%s) is unreachable: %s",
        request.method,
        request.path,
        kind,
        error.__cause__ or error,
        response=response,
        request=request,
        exception=error if store_outage.begins() else None,
    )
