"""Where sessions are kept: Redis at REDIS_URL (imported by settings.py).

A session engine of this project's own ({{ cookiecutter.project_slug }}/session_store.py) keeps one
string per session, under SESSION_KEY_PREFIX + session id; Redis deletes it when its lifetime
is over.
"""

import os
from typing import Any

SLUG = "{{ cookiecutter.project_slug }}"


def store(*, lifetime: int, key_prefix: str) -> dict[str, Any]:
    """`lifetime` needs no setting here: each record carries its own expiry."""
    url = os.environ.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"
    return {
        "KIND": "Redis",
        "ENGINE": f"{SLUG}.session_store",
        "URL": url,
        "KEY_PREFIX": key_prefix,
        # A second to connect: a Redis that is down is a quick 503. Five for an answer from
        # a Redis that is up but busy.
        "CONNECT_TIMEOUT": 1,
        "ANSWER_TIMEOUT": 5,
    }
