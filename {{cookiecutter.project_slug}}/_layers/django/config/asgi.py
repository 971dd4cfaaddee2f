"""ASGI entry point, the one production serves: async views share one event loop.

Serve it with `gunicorn config.asgi:application -k uvicorn_worker.UvicornWorker`.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
