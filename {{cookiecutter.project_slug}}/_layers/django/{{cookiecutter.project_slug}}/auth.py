"""The Logto client of one request, on that request's server-side session."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from logto import LogtoConfig

from .logto_client import AppLogtoClient
from .session_storage import SessionStorage

LOGTO_SETTINGS = ("LOGTO_ENDPOINT", "LOGTO_APP_ID", "LOGTO_APP_SECRET")


def missing_logto_settings() -> list[str]:
    return [name for name in LOGTO_SETTINGS if not getattr(settings, name)]


async def load_session(request: HttpRequest) -> None:
    """Read the session from its store through Django's async API.

    The SDK's storage is synchronous. Once the session is loaded, its synchronous reads and
    writes only touch the loaded data, so no session engine (a database's included) is
    called synchronously inside the event loop.
    """
    await request.session.aget("_")


async def logto_client(request: HttpRequest) -> AppLogtoClient:
    await load_session(request)
    config = LogtoConfig(
        endpoint=settings.LOGTO_ENDPOINT,
        appId=settings.LOGTO_APP_ID,
        appSecret=settings.LOGTO_APP_SECRET or None,
    )
    return AppLogtoClient(config, SessionStorage(request.session))


def callback_url() -> str:
    return f"{settings.BASE_URL}/callback"


def safe_next(url: str | None) -> str:
    """`url` when it is a path on this app, else "/" (no open redirect via `next`)."""
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return "/"
