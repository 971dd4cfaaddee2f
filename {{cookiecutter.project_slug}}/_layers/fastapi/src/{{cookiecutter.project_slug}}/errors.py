"""Errors the visitor sees as a short page with the right status, never as a stack trace."""

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logto_client import LogtoUnreachableError
from .response_headers import SECURITY_HEADERS
from .session_store import SessionStoreUnavailableError
from .templating import templates

logger = logging.getLogger(__name__)


class LogtoNotConfiguredError(Exception):
    def __init__(self, missing: list[str]) -> None:
        names = ", ".join(missing)
        super().__init__(f"Sign-in is not set up yet: set {names} in .env (see README.md).")
        self.missing = missing


class SignInRequiredError(Exception):
    """The page is for signed-in users only: the visitor is sent to sign in first."""


def error_page(
    request: Request, status_code: int, message: str, title: str | None = None
) -> HTMLResponse:
    title = title or f"{status_code} {HTTPStatus(status_code).phrase}"
    context = {"title": title, "message": message, "user": None}
    return templates.TemplateResponse(request, "error.html", context, status_code=status_code)


async def _http_error(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, HTTPException)
    response = error_page(request, error.status_code, str(error.detail))
    response.headers.update(error.headers or {})
    return response


async def _invalid_request(request: Request, error: Exception) -> HTMLResponse:
    return error_page(request, 400, "The request's parameters are not valid.")


async def _logto_not_configured(request: Request, error: Exception) -> HTMLResponse:
    return error_page(request, 503, str(error), title="Sign-in is not set up")


async def _sign_in_required(request: Request, error: Exception) -> RedirectResponse:
    return RedirectResponse(request.app.url_path_for("sign_in"), status_code=302)


async def _logto_unreachable(request: Request, error: Exception) -> HTMLResponse:
    logger.warning("Logto unreachable: %s", error)
    return error_page(request, 502, "Logto cannot be reached right now. Please try again later.")


async def _store_unavailable(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, SessionStoreUnavailableError)
    # While the store is down every request fails alike: one traceback says why, the rest count.
    logger.warning("%s", error, exc_info=error if error.first_failure else None)
    return error_page(request, 503, f"{error} Please try again in a moment.")


async def _unexpected(request: Request, error: Exception) -> HTMLResponse:
    # A bug: Starlette logs the stack trace after this page went out. It goes out around the
    # app's middleware, so it carries the security headers of its own.
    response = error_page(request, 500, "Something went wrong on our side. Please try again later.")
    response.headers.update(SECURITY_HEADERS)
    return response


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(LogtoNotConfiguredError, _logto_not_configured)
    app.add_exception_handler(SignInRequiredError, _sign_in_required)
    app.add_exception_handler(LogtoUnreachableError, _logto_unreachable)


class SessionStoreErrorMiddleware:
    """Answers 503 when the session store fails, whether loading or saving the session.

    This is middleware around the session middleware rather than an exception handler:
    the session is saved as the response starts, after Starlette's exception handling
    has counted the response as started, so no handler may answer a failure there.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response_started = False

        async def send_tracking_start(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking_start)
        except SessionStoreUnavailableError as error:
            if response_started or scope["type"] != "http":
                raise
            response = await _store_unavailable(Request(scope), error)
            await response(scope, receive, send)
