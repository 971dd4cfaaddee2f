"""Where sessions are kept: MongoDB at MONGODB_URL (imported by settings.py).

A session engine of this project's own ({{ cookiecutter.project_slug }}/session_store.py) keeps one
document per session; MongoDB's TTL index deletes it once its lifetime is over.
"""

import os
from typing import Any

SLUG = "{{ cookiecutter.project_slug }}"


def store(*, lifetime: int, key_prefix: str) -> dict[str, Any]:
    """`lifetime` needs no setting here: each record carries its own expiry date."""
    url = os.environ.get("MONGODB_URL", "").strip() or f"mongodb://127.0.0.1:27017/{SLUG}"
    return {
        "KIND": "MongoDB",
        "ENGINE": f"{SLUG}.session_store",
        "URL": url,
        "DATABASE": SLUG,  # when MONGODB_URL names none
        "COLLECTION": "sessions",
        "KEY_PREFIX": key_prefix,
        # A second to reach MongoDB: one that is down is a quick 503. Five for an answer.
        "CONNECT_TIMEOUT_MS": 1000,
        "ANSWER_TIMEOUT_MS": 5000,
    }
