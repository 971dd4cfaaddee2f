"""Where sessions are kept: this process's memory (imported by settings.py).

A session engine of this project's own ({{ cookiecutter.project_slug }}/session_store.py) keeps at most
SESSION_MEMORY_MAX_ENTRIES records (sessions, and the index that back-channel logout reads);
beyond that the least recently written go first. Every worker process has its own store, so
serve this with a single worker.
"""

import logging
import os
import shlex
import sys
from typing import Any

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


def store(*, lifetime: int, key_prefix: str) -> dict[str, Any]:
    """`lifetime` and `key_prefix` need no setting here: each record carries its own expiry,
    and this process's store holds this app's sessions only."""
    value = os.environ.get("SESSION_MEMORY_MAX_ENTRIES", "").strip() or "10000"
    if not value.isdecimal() or int(value) == 0:
        message = f"SESSION_MEMORY_MAX_ENTRIES must be a positive whole number, not {value!r}."
        raise ImproperlyConfigured(message)
    if (workers := worker_count()) > 1:
        logger.warning(
            "Sessions are kept in memory, but %d worker processes are asked for: each has its "
            "own sessions, so people get signed out at random. Serve with one worker, or "
            "choose the Redis or MongoDB session backend.",
            workers,
        )
    return {
        "KIND": "memory",
        "ENGINE": "{{ cookiecutter.project_slug }}.session_store",
        "MAX_ENTRIES": int(value),
    }


def worker_count() -> int:
    """How many worker processes the server was asked for, where that shows.

    WEB_CONCURRENCY is gunicorn's and uvicorn's default; `--workers N` (gunicorn's `-w N`
    too) on their command line or in GUNICORN_CMD_ARGS overrides it. Worker processes see
    their server's command line, so the warning shows in each of them.
    """
    count = os.environ.get("WEB_CONCURRENCY", "").strip()
    program = sys.argv[0] if sys.argv else ""
    if "gunicorn" in program or "uvicorn" in program:
        args = sys.argv[1:] + shlex.split(os.environ.get("GUNICORN_CMD_ARGS", ""))
        for arg, value in zip(args, [*args[1:], ""], strict=True):
            if arg in {"--workers", "-w"}:
                count = value
            elif arg.startswith("--workers="):
                count = arg.removeprefix("--workers=")
    return int(count) if count.isdigit() else 1
