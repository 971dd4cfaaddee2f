"""The floor for Django: one view, no app, no middleware, in one module.

Served as `bare_django:application` (WSGI) or `bare_django:asgi_application` (ASGI),
whichever kind of entry point the baked project's Dockerfile serves.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bare-hello-world-benchmark-only-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
)


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><title>Hello</title><p>Hello Logto!</p>")


urlpatterns = [path("", index)]

from django.core.asgi import get_asgi_application  # noqa: E402 (needs the settings)
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
asgi_application = get_asgi_application()
