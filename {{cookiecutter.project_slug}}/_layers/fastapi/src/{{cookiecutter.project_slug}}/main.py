"""The FastAPI app, served by `uvicorn {{ cookiecutter.project_slug }}.main:app`."""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import device_pages, token_pages
from .claims import is_signed_in
from .config import Settings, SettingsError, get_settings
from .errors import SessionStoreErrorMiddleware, add_error_handlers
from .response_headers import ResponseHeadersMiddleware
from .routes import router
from .session_middleware import SessionMiddleware
from .sessions import create_session_store

SESSION_COOKIE = "session"
# The exit status by which gunicorn and uvicorn tell a worker that cannot boot from one that
# crashed: they stop the server rather than start the worker again, and again.
WORKER_BOOT_ERROR = 3


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check_production()
    store = create_session_store(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with store.connected():
            yield

    # The app serves pages, not an API: no OpenAPI schema or docs.
    app = FastAPI(lifespan=lifespan, openapi_url=None)
    app.state.settings = settings
    app.state.session_store = store
    # The cookie holds only the session id; the session itself stays in the store.
    app.add_middleware(
        SessionMiddleware,
        store=store,
        lifetime=settings.session_lifetime,  # counted from the session's last use
        is_signed_in=is_signed_in,  # a session that is not yet lives SIGN_IN_TIMEOUT
        cookie_name=SESSION_COOKIE,
        https_only=settings.uses_https,
    )
    app.add_middleware(SessionStoreErrorMiddleware)
    app.add_middleware(ResponseHeadersMiddleware)  # outermost: on the 503 pages too
    add_error_handlers(app)
    app.include_router(router)
    app.include_router(token_pages.router)
    app.include_router(device_pages.router)
    return app


try:
    app = create_app()
except SettingsError as error:
    # A line per problem for whoever deploys, rather than a stack trace.
    print(error, file=sys.stderr)
    raise SystemExit(WORKER_BOOT_ERROR) from None
