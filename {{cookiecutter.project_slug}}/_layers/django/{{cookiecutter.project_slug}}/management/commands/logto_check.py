"""`uv run python manage.py logto_check`: is this deployment ready to sign people in?

One line per check; the exit code is 1 when any of them failed, so that a deploy script can
stop on it.
"""

import sys
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from ...errors import SessionStoreUnavailable
from ...selfcheck import Check, logto_checks, report


def session_store_check() -> Check:
    """The store as /healthz sees it."""
    kind = settings.SESSION_STORE["KIND"]
    try:
        import_module(settings.SESSION_ENGINE).SessionStore().ping()
    except SessionStoreUnavailable:
        return Check("session store", False, f"{kind}: unreachable")
    return Check("session store", True, f"{kind}: reachable")


class Command(BaseCommand):
    help = "Checks the Logto settings, Logto's discovery, the redirect URIs and the session store."

    def handle(self, *args: Any, **options: Any) -> None:
        checks = logto_checks(
            settings.LOGTO_ENDPOINT,
            settings.LOGTO_APP_ID,
            settings.LOGTO_APP_SECRET,
            settings.BASE_URL,
        )
        checks.append(session_store_check())
        if report(checks):
            sys.exit(1)
