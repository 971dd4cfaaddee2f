"""ASGI entry point, for an ASGI server (uvicorn, daphne) if you prefer one.

Production serves config.wsgi (see there): under ASGI, Django runs each of its synchronous
middleware in a worker thread, which costs more than the event loop saves in this app.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
