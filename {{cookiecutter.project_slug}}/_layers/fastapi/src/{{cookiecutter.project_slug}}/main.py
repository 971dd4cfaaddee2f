"""The FastAPI app, served by `uvicorn {{ cookiecutter.project_slug }}.main:app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .config import InsecureSettingsError, Settings, get_settings
from .errors import SessionStoreErrorMiddleware, add_error_handlers
from .routes import router
from .session_middleware import SessionMiddleware
from .sessions import create_session_store

SESSION_COOKIE = "session"


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
        cookie_name=SESSION_COOKIE,
        https_only=settings.uses_https,
    )
    app.add_middleware(SessionStoreErrorMiddleware)
    add_error_handlers(app)
    app.include_router(router)
    return app


try:
    app = create_app()
except InsecureSettingsError as error:
    # One clear line for whoever deploys, rather than a stack trace.
    raise SystemExit(str(error)) from None
