"""Is this deployment ready to sign people in? `uv run python -m {{ cookiecutter.project_slug }}.check`

One line per check; the exit code is 1 when any of them failed, so that a deploy script can
stop on it. With `--settings-only` it reads the settings alone and reaches nothing: run before
the server, it turns a refused start into a failed command.
"""

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Is this deployment ready to sign people in?")
    parser.add_argument(
        "--settings-only",
        action="store_true",
        help="check the settings as the app does at start, without reaching Logto or the store",
    )
    arguments = parser.parse_args(argv)
    try:
        settings = get_settings()
        settings.check_production()
    except SettingsError as error:
        return report([Check("settings", False, problem) for problem in error.problems])
    if arguments.settings_only:
        return report([Check("settings", True, f"the app starts with APP_ENV={settings.app_env}")])
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
