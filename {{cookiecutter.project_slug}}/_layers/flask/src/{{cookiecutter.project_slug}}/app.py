"""The app factory: `flask --app <package>.app run` and gunicorn call `create_app()`."""

import logging
import secrets
from datetime import timedelta
from types import TracebackType

from flask import Flask
from logto import LogtoConfig

from .auth import display_name
from .csrf import csrf_token
from .devices import timestamp
from .errors import register_error_pages
from .headers import register_response_headers
from .resource_tokens import sign_in_scopes
from .routes import blueprint
from .sessions import STORE_ERRORS, init_sessions
from .settings import Settings

logger = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


class App(Flask):
    def log_exception(self, exc_info: ExcInfo) -> None:
        # A session store's error raised while Flask saves the session comes here before
        # its 503 page, which logs it: with a traceback once per outage (errors.py).
        if not isinstance(exc_info[1], STORE_ERRORS):
            super().log_exception(exc_info)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings.check()

    app = App(__name__)
    app.config.from_mapping(settings.as_config())
    app.extensions["logto_config"] = LogtoConfig(
        endpoint=settings.logto_endpoint,
        appId=settings.logto_app_id,
        appSecret=settings.logto_app_secret,
        scopes=sign_in_scopes(
            list(settings.logto_scopes), list(settings.logto_organization_scopes)
        ),
        resources=list(settings.logto_resources),
    )
    app.config.update(
        SECRET_KEY=settings.session_secret or development_secret(),
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_lifetime),
        SESSION_PERMANENT=True,
        SESSION_KEY_PREFIX=settings.session_key_prefix,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.https,
    )
    init_sessions(app, settings)
    register_error_pages(app)
    register_response_headers(app)
    app.add_template_global(csrf_token)
    app.add_template_filter(display_name)
    app.add_template_filter(timestamp)
    app.register_blueprint(blueprint)
    return app


def development_secret() -> str:
    # Only reached outside production (Settings.check refuses it there).
    logger.warning("SESSION_SECRET is not set: using a random one until this process stops.")
    return secrets.token_urlsafe(48)
