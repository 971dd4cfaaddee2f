"""WSGI entry point: `manage.py runserver`, and production's `gunicorn config.wsgi`.

Pages that only read the session are plain views; the views that wait for Logto are async
and get an event loop of their own. gunicorn.conf.py gives each worker threads.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
