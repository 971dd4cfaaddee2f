"""Gunicorn's settings for this app; gunicorn reads this file from the directory it starts in."""

from gunicorn.arbiter import Arbiter


def on_starting(server: Arbiter) -> None:
    # Each worker is a process with its own memory, hence its own sessions: a visitor
    # signed in on one worker would be anonymous on the next.
    if server.cfg.workers > 1:
        server.log.warning(
            "Sessions are kept in each process's memory, and %d workers are starting: "
            "a visitor's session will not be seen by the other workers. Run one worker "
            "(--workers 1, WEB_CONCURRENCY=1) or store sessions in Redis, MongoDB or a database.",
            server.cfg.workers,
        )
