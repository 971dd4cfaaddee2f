"""Where sessions are kept: the SQL database at DATABASE_URL (imported by settings.py).

Django's own database session engine: one row per session in the `django_session` table,
which `python manage.py migrate` makes. DATABASE_URL is a SQLite file (a path relative to
this project, `sqlite:///instance/sessions.sqlite3` by default, or absolute as
`sqlite:////var/lib/app/sessions.sqlite3`) or PostgreSQL
(`postgresql://user:password@host:5432/database`).
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SLUG = "{{ cookiecutter.project_slug }}"
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "sqlite:///instance/sessions.sqlite3"
# Connections outlive a request (a new one per request would cost more than the query);
# one that broke meanwhile is replaced before it is used.
CONNECTION = {"CONN_MAX_AGE": 600, "CONN_HEALTH_CHECKS": True}


def store(*, lifetime: int, key_prefix: str) -> dict[str, Any]:
    """Neither argument needs a setting: each row carries its own expiry date, and the
    table is this app's own."""
    url = os.environ.get("DATABASE_URL", "").strip() or DEFAULT_URL
    return {
        "KIND": "SQL database",
        "ENGINE": f"{SLUG}.session_store",
        "DATABASES": {"default": database(url)},
        "INSTALLED_APPS": ["django.contrib.sessions"],
    }


def database(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for DATABASE_URL."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path
        path = PROJECT_DIR / unquote(parts.path.removeprefix("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            # Several processes share the file: readers need not wait for a writer (WAL),
            # and a writer waits up to 5 s for another one.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 5},
            **CONNECTION,
        }
    if parts.scheme in {"postgresql", "postgres"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.removeprefix("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            # A second to connect: a database that is down is a quick 503.
            "OPTIONS": {"connect_timeout": 1},
            **CONNECTION,
        }
    # Name the scheme only: the URL may hold a password.
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, not {parts.scheme}://."
    )
