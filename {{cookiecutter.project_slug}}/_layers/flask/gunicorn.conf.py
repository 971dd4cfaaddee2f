"""Gunicorn's settings for this app; gunicorn reads this file from the directory it starts in."""

import sys

from gunicorn.arbiter import Arbiter

from {{ cookiecutter.project_slug }}.settings import Settings, SettingsError


def on_starting(server: Arbiter) -> None:
    refuse_unfit_settings(server)


def refuse_unfit_settings(server: Arbiter) -> None:
    # Checked once, before any worker starts: each worker would refuse them with a
    # traceback of its own.
    try:
        Settings.from_env().check()
    except SettingsError as error:
        for problem in error.problems:
            server.log.error("%s", problem)
        sys.exit(1)
