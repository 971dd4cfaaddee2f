"""gunicorn's settings for this app: gunicorn reads this file by default, and its command
line adds to them (`gunicorn config.wsgi --workers 2 --bind 0.0.0.0:8000`).
"""

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from gunicorn.arbiter import Arbiter

# Threads (gunicorn's gthread worker): a worker waiting for Logto's answer to one request
# still serves the others.
threads = 8


def on_starting(server: Arbiter) -> None:
    """Read the settings once, before any worker starts.

    Settings that refuse to start (production without a secret) then stop gunicorn itself,
    one line per problem, rather than every worker with a traceback while gunicorn lives on.
    The workers inherit the settings read here.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        import config.settings  # noqa: F401
    except ImproperlyConfigured as error:
        sys.exit(str(error))
