"""Is this deployment ready to sign people in? `flask --app {{ cookiecutter.project_slug }}.app check`
(or `python -m {{ cookiecutter.project_slug }}.check`).

One line per check; the exit code is 1 when any of them failed, so that a deploy script can
stop on it. A plugin command (pyproject.toml's `flask.commands`): it runs without the app,
whose factory would refuse the very settings this command is there to report.
"""

import sys

import click

from .app import create_app
from .environment import SettingsError
from .selfcheck import Check, logto_checks, report
from .sessions import STORE_KIND
from .settings import Settings


@click.command("check")
def check() -> None:
    """Check the settings, Logto and the session store."""
    try:
        settings = Settings.from_env()
        settings.check()
    except SettingsError as error:
        sys.exit(report([Check("settings", False, problem) for problem in error.problems]))
    checks = logto_checks(
        settings.logto_endpoint,
        settings.logto_app_id,
        settings.logto_app_secret,
        settings.base_url,
    )
    store_is_up = create_app(settings).session_interface.ping()  # type: ignore[attr-defined]
    state = "reachable" if store_is_up else "unreachable"
    checks.append(Check("session store", store_is_up, f"{STORE_KIND}: {state}"))
    sys.exit(report(checks))


if __name__ == "__main__":
    check()
