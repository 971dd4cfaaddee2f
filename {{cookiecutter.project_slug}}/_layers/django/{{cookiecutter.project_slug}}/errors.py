"""Error pages: every failure a visitor can meet gets a page that says what happened."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class SessionStoreUnavailable(Exception):  # noqa: N818 (named like Django's Http404)
    """The session store could not be reached; requests that need a session must wait."""


def error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    context = {"title": title, "message": message}
    return render(request, "{{ cookiecutter.project_slug }}/error.html", context, status=status)


def session_store_unavailable(request: HttpRequest) -> HttpResponse:
    # Name the kind of store only: its URL may hold credentials.
    kind = settings.SESSION_STORE["KIND"]
    return error_page(
        request,
        503,
        "Service unavailable",
        f"The session store ({kind}) cannot be reached right now. Please try again shortly.",
    )
