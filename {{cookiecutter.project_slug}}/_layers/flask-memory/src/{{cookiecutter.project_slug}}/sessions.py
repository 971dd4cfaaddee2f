"""Server-side sessions in this process's memory (Flask-Session on a cachelib SimpleCache).

Sessions live as long as the process and are not shared between processes: run one
process (one worker), or pick Redis or MongoDB when generating the project.
"""

from cachelib import SimpleCache
from flask import Flask
from flask_session import Session

from .settings import Settings

STORE_KIND = "memory"
# Errors that mean "the session store is down"; the in-process store cannot be.
STORE_ERRORS: tuple[type[Exception], ...] = ()


class BoundedCache(SimpleCache):
    """A SimpleCache that never holds more than `threshold` entries.

    SimpleCache prunes before it adds, so it would hold one entry over its threshold.
    """

    def _over_threshold(self) -> bool:
        return len(self._cache) >= self._threshold


def init_sessions(app: Flask, settings: Settings) -> None:
    app.config.update(
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=BoundedCache(
            threshold=settings.session_memory_max_entries,
            default_timeout=settings.session_lifetime,
        ),
    )
    Session(app)


def store_is_up(app: Flask) -> bool:
    return True
