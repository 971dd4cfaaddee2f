"""The floor for Django: one view, no app, in one module, with the middleware that every
Django project has from `startproject` on and that has nothing to do with sessions or users:
security headers, CSRF, clickjacking (`manage.py check --deploy` asks for all three). The
benchmark compares the baked app with this, so its ratio is what sessions and signing in
cost. (startproject's session, auth and messages middleware are what the app replaces; its
CommonMiddleware the app does not use.) Without any middleware, this page is ~10 µs faster
in-process, and SecurityMiddleware accounts for nearly all of that.

`/one-read` is the same page after one read of a copy of a signed-in session's record, through
the driver that the project's sessions use (BARE_STORE: one Redis GET through redis-py, one
connection per thread; one find through pymongo; one SELECT through Django's own database
connection, set up as the project's): the floor for any page whose session lives in that
store. Only a `database` floor configures a database.

Served as `bare_django:application` (WSGI) or `bare_django:asgi_application` (ASGI),
whichever kind of entry point the baked project's Dockerfile serves.
"""

import functools
import os
import threading
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path

STORE = os.environ.get("BARE_STORE")
# The project's database settings (config/sessions.py) for a SQLite file.
SQLITE = {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": os.environ.get("BARE_STORE_URL", "").removeprefix("sqlite:///"),
    "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 5},
    "CONN_MAX_AGE": 600,
    "CONN_HEALTH_CHECKS": True,
}

# Served as the app is in production (behind a TLS-ending proxy, config.FORWARDED): with
# the HTTPS settings that `check --deploy` asks for, as the app's production settings have.
settings.configure(
    DEBUG=False,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SECURE_SSL_REDIRECT=True,
    SECURE_HSTS_SECONDS=60 * 60,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    DATABASES={"default": SQLITE} if STORE == "database" else {},
    SECRET_KEY="bare-hello-world-benchmark-only-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
)


PAGE = "<!doctype html><title>Hello</title><p>Hello Logto!</p>"


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE)


_threads = threading.local()


def redis_client() -> Any:  # redis is only there in a Redis project
    if (client := getattr(_threads, "redis", None)) is None:
        import redis

        client = redis.Redis.from_url(os.environ["BARE_STORE_URL"], single_connection_client=True)
        _threads.redis = client
    return client


@functools.cache
def mongodb_collection() -> Any:  # pymongo is only there in a MongoDB project
    import pymongo

    client = pymongo.MongoClient(os.environ["BARE_STORE_URL"], tz_aware=True)
    return client.get_default_database()[os.environ["BARE_RECORD_TABLE"]]


def one_read(request: HttpRequest) -> HttpResponse:
    key = os.environ["BARE_RECORD_KEY"]
    if STORE == "redis":
        redis_client().get(key)
    elif STORE == "mongodb":
        mongodb_collection().find_one({"_id": key})
    else:
        table, column = os.environ["BARE_RECORD_TABLE"], os.environ["BARE_RECORD_COLUMN"]
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT * FROM "{table}" WHERE "{column}" = %s', [key])
            cursor.fetchone()
    return HttpResponse(PAGE)


urlpatterns = [path("", index), path("one-read", one_read)]

from django.core.asgi import get_asgi_application  # noqa: E402 (needs the settings)
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
asgi_application = get_asgi_application()
