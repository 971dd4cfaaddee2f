"""Every setting of the app, read from the environment (and `.env`) and checked in one place.

`create_app` puts them in `app.config` under their environment names (`BASE_URL`, ...).
"""

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dotenv import find_dotenv, load_dotenv

from .environment import SettingsError, whole_number
from .resource_tokens import resource_problem, setting_list
from .store_settings import StoreSettings

__all__ = ["Settings", "SettingsError", "origin"]

MIN_SECRET_LENGTH = 32
# A secret of one character repeated, or of a few, is as guessable as a short one.
MIN_SECRET_CHARACTERS = 10
# How values begin that mean "the example was copied and no real secret was ever set".
PLACEHOLDERS = ("change-me", "changeme", "replace-me", "your-", "secret", "placeholder", "xxx")


@dataclass(frozen=True)
class Settings(StoreSettings):
    """The app's settings; the session store's own come from `StoreSettings`."""

    app_env: str = "development"
    base_url: str = "http://127.0.0.1:8000"
    session_secret: str = field(default="", repr=False)  # secrets stay out of logs
    session_lifetime: int = 1_209_600  # seconds without use: 14 days, like Logto's refresh token
    session_key_prefix: str = "{{ cookiecutter.project_slug }}:session:"
    logto_endpoint: str = ""
    logto_app_id: str = ""
    logto_app_secret: str = field(default="", repr=False)
    # More of Logto: extra scopes, API resource indicators, organization scopes (empty: none).
    logto_scopes: tuple[str, ...] = ()
    logto_resources: tuple[str, ...] = ()
    logto_organization_scopes: tuple[str, ...] = ()
    api_url: str = ""  # the API that /call-api calls, with a token for the first resource

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Settings from `environ`; by default the process environment with `.env` loaded."""
        if environ is None:
            # The .env of the directory the app starts in; it never overrides the environment.
            load_dotenv(find_dotenv(usecwd=True))
            environ = os.environ
        env = {name: value for name, value in environ.items() if value != ""}
        defaults = cls()
        return cls(
            app_env=env.get("APP_ENV", defaults.app_env).strip().lower(),
            base_url=env.get("BASE_URL", defaults.base_url).rstrip("/"),
            session_secret=env.get("SESSION_SECRET", defaults.session_secret).strip(),
            session_lifetime=whole_number(env, "SESSION_LIFETIME", defaults.session_lifetime),
            session_key_prefix=env.get("SESSION_KEY_PREFIX", defaults.session_key_prefix),
            logto_endpoint=env.get("LOGTO_ENDPOINT", defaults.logto_endpoint).rstrip("/"),
            logto_app_id=env.get("LOGTO_APP_ID", defaults.logto_app_id),
            logto_app_secret=env.get("LOGTO_APP_SECRET", defaults.logto_app_secret),
            logto_scopes=tuple(setting_list(env.get("LOGTO_SCOPES"))),
            logto_resources=tuple(setting_list(env.get("LOGTO_RESOURCES"))),
            logto_organization_scopes=tuple(setting_list(env.get("LOGTO_ORGANIZATION_SCOPES"))),
            api_url=env.get("API_URL", defaults.api_url).strip(),
            **cls.store_values(env),  # type: ignore[arg-type]
        )

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    def as_config(self) -> dict[str, Any]:
        """The settings under their environment names, for `app.config`."""
        return {name.upper(): value for name, value in asdict(self).items()}

    def check(self) -> None:
        """Refuse settings unfit for APP_ENV, naming every problem."""
        problems = []
        if self.app_env not in {"development", "production"}:
            problems.append(f"APP_ENV must be development or production, not {self.app_env!r}")
        if self.session_lifetime <= 0:
            problems.append("SESSION_LIFETIME must be a positive number of seconds")
        problems += self.store_problems()
        problems += self.logto_problems()
        if self.production:
            problems += self.production_problems()
        if problems:
            raise SettingsError(*problems)

    def logto_problems(self) -> list[str]:
        problems = [
            f"LOGTO_RESOURCES: {problem}"
            for indicator in self.logto_resources
            if (problem := resource_problem(indicator)) is not None
        ]
        if self.api_url and not is_http_url(self.api_url):
            problems.append(f"API_URL: {self.api_url!r} is not an http(s) URL")
        return problems

    def production_problems(self) -> list[str]:
        problems = []
        secret = self.session_secret
        if not secret:
            problems.append("SESSION_SECRET is missing")
        elif secret.lower().startswith(PLACEHOLDERS):
            problems.append("SESSION_SECRET is a placeholder")
        elif len(secret) < MIN_SECRET_LENGTH:
            problems.append(f"SESSION_SECRET is shorter than {MIN_SECRET_LENGTH} characters")
        elif len(set(secret)) < MIN_SECRET_CHARACTERS:
            problems.append(
                f"SESSION_SECRET has fewer than {MIN_SECRET_CHARACTERS} distinct characters"
            )
        if not self.logto_app_secret:
            problems.append("LOGTO_APP_SECRET is missing")
        if not self.https:
            problems.append("BASE_URL is not https")
        return [f"APP_ENV=production refuses to start: {problem}" for problem in problems]


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in {"http", "https"} and bool(parts.hostname)
    except ValueError:  # say, a bracketed host that is no IPv6 address
        return False


def origin(url: str) -> str:
    """The origin of `url` (scheme://host[:port]), as a browser names it in Origin."""
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    port = "" if parts.port in {None, default_port} else f":{parts.port}"
    return f"{parts.scheme}://{parts.hostname}{port}"
