"""Where sessions are kept: this process's memory (imported by settings.py).

Django's cache session engine on a LocMemCache of at most SESSION_MEMORY_MAX_ENTRIES
sessions; when it is full, a third of them go, least recently used first. Every worker
process has its own store, so serve this with a single worker.
"""

import os
from typing import Any

LOCAL_MEMORY = "django.core.cache.backends.locmem.LocMemCache"


def store(*, lifetime: int, key_prefix: str) -> dict[str, Any]:
    max_entries = int(os.environ.get("SESSION_MEMORY_MAX_ENTRIES", "").strip() or 10_000)
    return {
        "KIND": "memory",
        "ENGINE": "django.contrib.sessions.backends.cache",
        "CACHES": {
            "default": {"BACKEND": LOCAL_MEMORY},
            "sessions": {
                "BACKEND": LOCAL_MEMORY,
                "LOCATION": "sessions",
                "TIMEOUT": lifetime,
                "KEY_PREFIX": key_prefix,
                "OPTIONS": {"MAX_ENTRIES": max_entries},
            },
        },
    }
