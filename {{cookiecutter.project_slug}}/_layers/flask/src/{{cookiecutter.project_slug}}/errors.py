"""Error pages: every failure the user can meet gets a short page and the right status code."""

from flask import Flask, current_app, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

from .logto_client import LogtoUnreachableError
from .sessions import STORE_ERRORS, STORE_KIND

ErrorPage = tuple[str, int]


class LogtoNotConfiguredError(Exception):
    """Sign-in needs Logto settings that are not set."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"missing {', '.join(missing)}")
        self.missing = missing


class SignInFailedError(Exception):
    """The callback cannot finish a sign-in: forged, replayed, stale or refused at Logto."""


def register_error_pages(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(InternalServerError, internal_error)
    app.register_error_handler(LogtoNotConfiguredError, logto_not_configured)
    app.register_error_handler(LogtoUnreachableError, logto_unreachable)
    app.register_error_handler(SignInFailedError, sign_in_failed)
    for store_error in STORE_ERRORS:
        app.register_error_handler(store_error, store_unavailable)


def error_page(status: int, title: str, message: str) -> ErrorPage:
    return render_template("error.html", title=title, message=message), status


def http_error(error: HTTPException) -> ErrorPage:
    return error_page(error.code or 500, error.name, error.description or "")


def internal_error(error: InternalServerError) -> ErrorPage:
    # Errors raised while Flask opens or saves the session never reach the handlers
    # registered for their class; Flask hands them here, wrapped.
    if isinstance(error.original_exception, STORE_ERRORS):
        return store_unavailable(error.original_exception)
    return error_page(500, "Something went wrong", "The error was logged. Please try again.")


def logto_not_configured(error: LogtoNotConfiguredError) -> ErrorPage:
    return error_page(
        503,
        "Sign-in is not set up",
        f"Sign-in is not set up yet: set {', '.join(error.missing)} in .env (see README.md).",
    )


def logto_unreachable(error: LogtoUnreachableError) -> ErrorPage:
    current_app.logger.warning("Logto is unreachable: %s", error)
    return error_page(502, "Logto is unreachable", "Signing in is not possible right now.")


def sign_in_failed(error: SignInFailedError) -> ErrorPage:
    current_app.logger.info("Sign-in callback refused: %s", error)
    return error_page(
        400, "Sign-in failed", "This sign-in link is not valid (any more). Please sign in again."
    )


def store_unavailable(error: Exception) -> ErrorPage:
    # One line per failed request, and the traceback only of the first failure since the
    # store last answered: an outage under load must not bury the log in tracebacks.
    # Name the kind of store only: its URL may hold credentials.
    first = current_app.session_interface.store_failed()  # type: ignore[attr-defined]
    current_app.logger.warning(
        "Session store (%s) unavailable: %r", STORE_KIND, error, exc_info=error if first else None
    )
    return error_page(
        503,
        "Sessions are unavailable",
        f"The session store ({STORE_KIND}) cannot be reached. Please try again shortly.",
    )
