"""Is this deployment ready to sign people in? `uv run python -m {{ cookiecutter.project_slug }}.check`

One line per check; the exit code is 1 when any of them failed, so that a deploy script can
stop on it.
"""

import asyncio
import sys

from .config import Settings, SettingsError, get_settings
from .selfcheck import Check, logto_checks, report
from .session_store import SessionStoreUnavailableError
from .sessions import create_session_store


async def session_store_check(settings: Settings) -> Check:
    """The store as /healthz sees it: connected as for the app's lifespan, then pinged."""
    store = create_session_store(settings)
    try:
        async with store.connected():
            await store.ping()
    except SessionStoreUnavailableError:
        return Check("session store", False, f"{store.kind}: unreachable")
    return Check("session store", True, f"{store.kind}: reachable")


def main() -> int:
    try:
        settings = get_settings()
        settings.check_production()
    except SettingsError as error:
        return report([Check("settings", False, problem) for problem in error.problems])
    checks = logto_checks(
        settings.logto_endpoint,
        settings.logto_app_id,
        settings.logto_app_secret,
        settings.base_url,
    )
    checks.append(asyncio.run(session_store_check(settings)))
    return report(checks)


if __name__ == "__main__":
    sys.exit(main())
