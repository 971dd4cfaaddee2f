"""The floor for Django: one view, no app, in one module, with the middleware that every
Django project has from `startproject` on and that has nothing to do with sessions or users:
security headers, CSRF, clickjacking (`manage.py check --deploy` asks for all three). The
benchmark compares the baked app with this, so its ratio is what sessions and signing in
cost. (startproject's session, auth and messages middleware are what the app replaces; its
CommonMiddleware the app does not use.) Without any middleware, this page is ~10 µs faster
in-process, and SecurityMiddleware accounts for nearly all of that.

`/one-read` is the same page after one Redis GET of `BARE_REDIS_KEY` (through redis-py, one
connection per thread, as the Redis project's sessions read): the floor for any page whose
session lives in Redis.

Served as `bare_django:application` (WSGI) or `bare_django:asgi_application` (ASGI),
whichever kind of entry point the baked project's Dockerfile serves.
"""

import os
import threading

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
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


def one_read(request: HttpRequest) -> HttpResponse:
    if (client := getattr(_threads, "redis", None)) is None:
        import redis  # only there in a Redis project

        client = redis.Redis.from_url(os.environ["BARE_REDIS_URL"], single_connection_client=True)
        _threads.redis = client
    client.get(os.environ["BARE_REDIS_KEY"])
    return HttpResponse(PAGE)


urlpatterns = [path("", index), path("one-read", one_read)]

from django.core.asgi import get_asgi_application  # noqa: E402 (needs the settings)
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
asgi_application = get_asgi_application()
