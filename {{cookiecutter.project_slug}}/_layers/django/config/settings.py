"""Settings of this project, read from the environment in this one module.

`BASE_DIR/.env` is loaded first; variables already set in the environment win. Where
sessions are kept is the one part that differs per session backend: config/sessions.py.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from dotenv import load_dotenv

from {{ cookiecutter.project_slug }}.resource_tokens import resource_problem, setting_list

from . import sessions

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


app_env = os.environ.get("APP_ENV", "").strip() or "development"
APP_ENV = app_env.lower()  # `Production` is production
if APP_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"APP_ENV must be development or production, not {app_env!r}")
PRODUCTION = APP_ENV == "production"

BASE_URL = os.environ.get("BASE_URL", "").strip().rstrip("/") or "http://127.0.0.1:8000"
SESSION_SECRET = os.environ.get("SESSION_SECRET", "").strip()
SESSION_LIFETIME = env_int("SESSION_LIFETIME", 14 * 24 * 60 * 60)
SESSION_KEY_PREFIX = os.environ.get("SESSION_KEY_PREFIX", "{{ cookiecutter.project_slug }}:session:")

LOGTO_ENDPOINT = os.environ.get("LOGTO_ENDPOINT", "").strip().rstrip("/")
LOGTO_APP_ID = os.environ.get("LOGTO_APP_ID", "").strip()
LOGTO_APP_SECRET = os.environ.get("LOGTO_APP_SECRET", "").strip()
# More of Logto: lists separated by spaces or commas (empty: none). LOGTO_SCOPES: what
# sign-in asks for beyond the SDK's own scopes; LOGTO_RESOURCES: the API resources (RFC 8707
# indicators) that Logto gives access tokens for; LOGTO_ORGANIZATION_SCOPES: set, sign-in
# asks for the user's organizations too, and Logto gives organization tokens.
LOGTO_SCOPES = setting_list(os.environ.get("LOGTO_SCOPES"))
LOGTO_RESOURCES = setting_list(os.environ.get("LOGTO_RESOURCES"))
LOGTO_ORGANIZATION_SCOPES = setting_list(os.environ.get("LOGTO_ORGANIZATION_SCOPES"))
if bad_resources := [problem for r in LOGTO_RESOURCES if (problem := resource_problem(r))]:
    raise ImproperlyConfigured("\n".join(f"LOGTO_RESOURCES: {bad}" for bad in bad_resources))
# The API that /call-api calls with an access token for the first of LOGTO_RESOURCES.
API_URL = os.environ.get("API_URL", "").strip()
if API_URL and not (urlsplit(API_URL).scheme in {"http", "https"} and urlsplit(API_URL).netloc):
    raise ImproperlyConfigured(f"API_URL: {API_URL!r} is not an http(s) URL")

MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT_CHARACTERS = 10
# What .env.example and tutorials put where a secret belongs (compared case-insensitively).
PLACEHOLDERS = ("change-me", "changeme", "replace-me", "your-", "secret", "placeholder", "xxx")


def production_problems() -> list[str]:
    """What keeps this configuration from being served in production (empty: nothing)."""
    problems = []
    if not SESSION_SECRET:
        problems.append("SESSION_SECRET is missing")
    elif SESSION_SECRET.lower().startswith(PLACEHOLDERS):
        problems.append("SESSION_SECRET is a placeholder")
    elif len(SESSION_SECRET) < MIN_SECRET_LENGTH:
        problems.append(f"SESSION_SECRET is shorter than {MIN_SECRET_LENGTH} characters")
    elif len(set(SESSION_SECRET)) < MIN_SECRET_DISTINCT_CHARACTERS:
        # Long but not random: one character repeated, or a short pattern.
        problems.append(
            f"SESSION_SECRET has fewer than {MIN_SECRET_DISTINCT_CHARACTERS} distinct characters"
        )
    if not LOGTO_APP_SECRET:
        problems.append("LOGTO_APP_SECRET is missing")
    if urlsplit(BASE_URL).scheme != "https":
        problems.append("BASE_URL is not https")
    return problems


if PRODUCTION and (problems := production_problems()):
    # One line per problem (manage.py and gunicorn.conf.py print them as they are).
    refusals = [f"APP_ENV=production refuses to start: {problem}" for problem in problems]
    raise ImproperlyConfigured("\n".join(refusals))

# Development may run without a secret; a random one only costs the CSRF tokens on restart.
SECRET_KEY = SESSION_SECRET or get_random_secret_key()
# Development shows Django's debug pages (tracebacks, the URL list on a 404). Production
# shows the app's own error pages and logs tracebacks (LOGGING below): a visitor never gets
# a traceback page.
DEBUG = not PRODUCTION
ALLOWED_HOSTS = [urlsplit(BASE_URL).hostname or "127.0.0.1"]
if not PRODUCTION:
    ALLOWED_HOSTS += ["127.0.0.1", "localhost", "[::1]"]
CSRF_TRUSTED_ORIGINS = [BASE_URL]


MIDDLEWARE = [
    # The middlewares that only add headers come first, so that SecurityMiddleware's
    # redirect to HTTPS carries their headers too.
    "{{ cookiecutter.project_slug }}.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "{{ cookiecutter.project_slug }}.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "{{ cookiecutter.project_slug }}.middleware.LogtoUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]
# Messages travel in a signed cookie of their own: a page that shows them (base.html) reads
# no session, so a 503 page for a session store that is down still renders.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

# The pages' only style is inline (base.html); files put in the app's static/ folder are
# served by runserver in development. Production serves none: `collectstatic` to STATIC_ROOT
# and a server for it (WhiteNoise, or the proxy) come with the first static file.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# The cookie holds only the session id; Logto's tokens stay in the store.
SESSION_STORE = sessions.store(lifetime=SESSION_LIFETIME, key_prefix=SESSION_KEY_PREFIX)
# Users live at Logto: a database is only there when it is the session store.
DATABASES = SESSION_STORE.get("DATABASES", {})
INSTALLED_APPS = [
    *SESSION_STORE.get("INSTALLED_APPS", []),
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "{{ cookiecutter.project_slug }}.apps.AppConfig",
]
SESSION_ENGINE = SESSION_STORE["ENGINE"]
SESSION_COOKIE_AGE = SESSION_LIFETIME
# Lifetime counts from the last use: the middleware pushes an unchanged session's expiry
# back now and then (session_engine.py), without saving it again on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://")

# Django's CSRF cookie (a masked random token, no user data). Kept out of the session so
# that only views touch the session store, where a store outage is answered with a 503.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_FAILURE_VIEW = "{{ cookiecutter.project_slug }}.views.csrf_failure"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sent by middleware.ContentSecurityPolicyMiddleware (Django 5.2 has no CSP of its own).
# The pages' only style is inline; no form-action: the sign-out form's POST is redirected
# to Logto's end-session URL, which browsers check against form-action.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
if PRODUCTION:
    # Production sits behind a proxy that ends TLS and sets X-Forwarded-Proto (and strips
    # any the client sent). Health probes come from inside, over plain HTTP.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    # An hour to begin with; raise it once HTTPS works on every subdomain.
    SECURE_HSTS_SECONDS = 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Asking browsers to preload HSTS is hard to undo: the site's owner decides, not a template.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

USE_I18N = False  # English only: no translation machinery on each request
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO"},
        "{{ cookiecutter.project_slug }}": {"handlers": ["console"], "level": "INFO"},
    },
}
