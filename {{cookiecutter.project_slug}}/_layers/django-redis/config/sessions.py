"""Where sessions are kept: Redis at REDIS_URL (imported by settings.py).

Django's cache session engine on its built-in RedisCache; Redis drops a session when its
lifetime is over. Keys are SESSION_KEY_PREFIX + session id.
"""

import os
from typing import Any

SLUG = "{{ cookiecutter.project_slug }}"


def store(*, lifetime: int, key_prefix: str) -> dict[str, Any]:
    url = os.environ.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"
    return {
        "KIND": "Redis",
        "ENGINE": f"{SLUG}.session_store",
        "CACHES": {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "sessions": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "TIMEOUT": lifetime,
                "KEY_PREFIX": key_prefix,
                "KEY_FUNCTION": f"{SLUG}.session_store.store_key",
                # A second to connect: a Redis that is down is a quick 503. Five for an
                # answer from a Redis that is up but busy.
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 5},
            },
        },
    }
