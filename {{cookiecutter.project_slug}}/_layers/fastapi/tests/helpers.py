"""What tests of every layer use alike: a port nothing listens on, waiting, settings as env."""

import socket
import time
from collections.abc import Callable, Mapping

WAIT_SECONDS = 15


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {WAIT_SECONDS} s")
        time.sleep(0.1)


def as_environment(settings: Mapping[str, object]) -> dict[str, str]:
    """Settings as the app reads them from the environment: `redis_url` is REDIS_URL, and a
    list is its names separated by spaces."""
    return {
        name.upper(): " ".join(value) if isinstance(value, list) else str(value)
        for name, value in settings.items()
    }
