"""Gunicorn's settings for this app; gunicorn reads this file from the directory it starts in."""

import sys

from gunicorn.arbiter import Arbiter

from {{ cookiecutter.project_slug }}.settings import Settings, SettingsError


def on_starting(server: Arbiter) -> None:
    refuse_unfit_settings(server)
    warn_of_several_workers(server)


def refuse_unfit_settings(server: Arbiter) -> None:
    # Checked once, before any worker starts: each worker would refuse them with a
    # traceback of its own.
    try:
        Settings.from_env().check()
    except SettingsError as error:
        for problem in error.problems:
            server.log.error("%s", problem)
        sys.exit(1)


def warn_of_several_workers(server: Arbiter) -> None:
    # Each worker is a process with its own memory, hence its own sessions: a visitor
    # signed in on one worker would be anonymous on the next.
    if server.cfg.workers > 1:
        server.log.warning(
            "Sessions are kept in each process's memory, and %d workers are starting: "
            "a visitor's session will not be seen by the other workers. Run one worker "
            "(--workers 1, WEB_CONCURRENCY=1) or store sessions in Redis, MongoDB or a database.",
            server.cfg.workers,
        )
