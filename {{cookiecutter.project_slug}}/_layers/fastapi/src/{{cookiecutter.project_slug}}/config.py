"""Every setting of the app, read from the environment (and `.env`) in one place."""

import secrets
from functools import lru_cache
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from logto.models.oidc import UserInfoScope
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .resource_tokens import organizations_enabled, resource_problem, setting_list, sign_in_scopes
from .store_config import StoreSettings

# How the values people paste from examples begin; no random secret does.
PLACEHOLDERS = ("change-me", "changeme", "replace-me", "your-", "secret", "placeholder", "xxx")
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT_CHARACTERS = 10
APP_ENVS = ("development", "production")


class SettingsError(Exception):
    """Settings the app refuses to start with; its message is one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class InsecureSettingsError(SettingsError):
    """Production settings that would make the deployment unsafe."""


# A list setting is names separated by spaces or commas (`email phone`), not JSON.
NameList = Annotated[list[str], NoDecode]


class Settings(BaseSettings, StoreSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "production"] = "development"
    base_url: str = "http://127.0.0.1:8000"
    # Nothing here signs with it: the cookie holds a random id of a server-side session,
    # and the CSRF token is a random value kept in that session. It is for whatever the app
    # adds that signs (itsdangerous, a cookie of Starlette's own SessionMiddleware).
    session_secret: str = ""
    session_lifetime: int = Field(default=1_209_600, gt=0)
    session_key_prefix: str = "{{ cookiecutter.project_slug }}:session:"
    logto_endpoint: str = ""
    logto_app_id: str = ""
    logto_app_secret: str = ""
    logto_scopes: NameList = []  # asked for at sign-in beyond the SDK's own
    logto_resources: NameList = []  # API resource indicators (RFC 8707)
    logto_organization_scopes: NameList = []  # set: organizations and their tokens are on
    api_url: str = ""  # what /call-api calls, with a token for the first of LOGTO_RESOURCES

    @field_validator("app_env", mode="before")
    @classmethod
    def _known_app_env(cls, value: object) -> object:
        # `Production` is production; a typo must not quietly run the development settings.
        app_env = str(value).strip().lower()
        if app_env not in APP_ENVS:
            raise ValueError(f"APP_ENV must be development or production, not {value!r}")
        return app_env

    @field_validator("session_secret")
    @classmethod
    def _stripped(cls, secret: str) -> str:
        return secret.strip()

    @field_validator("base_url", "logto_endpoint")
    @classmethod
    def _without_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @field_validator("logto_scopes", "logto_resources", "logto_organization_scopes", mode="before")
    @classmethod
    def _name_list(cls, value: object) -> object:
        return setting_list(value) if isinstance(value, str) else value

    @field_validator("logto_resources")
    @classmethod
    def _resource_indicators(cls, indicators: list[str]) -> list[str]:
        for indicator in indicators:
            if problem := resource_problem(indicator):
                raise ValueError(f"LOGTO_RESOURCES: {problem}")
        return indicators

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        url = url.strip()
        parts = urlsplit(url)
        if url and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValueError(f"API_URL: {url!r} is not an http(s) URL")
        return url

    @model_validator(mode="after")
    def _random_secret_in_development(self) -> Self:
        # Development may run without SESSION_SECRET: a random one lasts as long as the process.
        if not self.session_secret and self.app_env == "development":
            self.session_secret = secrets.token_urlsafe(MIN_SECRET_LENGTH)
        return self

    @property
    def uses_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def origin(self) -> str:
        """BASE_URL's origin, as a browser names it in an `Origin` header."""
        url = urlsplit(self.base_url)
        return f"{url.scheme}://{url.netloc}".lower()

    @property
    def sign_in_scopes(self) -> list[str | UserInfoScope]:
        """The scopes sign-in asks for beyond the SDK's own (Logto's organizations scope as
        the SDK's own member)."""
        return sign_in_scopes(self.logto_scopes, self.logto_organization_scopes)

    @property
    def organizations_enabled(self) -> bool:
        return organizations_enabled(self.sign_in_scopes)

    def missing_logto_settings(self) -> list[str]:
        """Names of the Logto settings sign-in cannot do without (a Traditional web app's)."""
        required = {
            "LOGTO_ENDPOINT": self.logto_endpoint,
            "LOGTO_APP_ID": self.logto_app_id,
            "LOGTO_APP_SECRET": self.logto_app_secret,
        }
        return [name for name, value in required.items() if not value]

    def check_production(self) -> None:
        """Refuse what would make a production deployment unsafe, naming every problem."""
        if self.app_env != "production":
            return
        problems = []
        secret = self.session_secret
        if not secret:
            problems.append("SESSION_SECRET is missing")
        elif secret.lower().startswith(PLACEHOLDERS):
            problems.append("SESSION_SECRET is a placeholder")
        elif len(secret) < MIN_SECRET_LENGTH:
            problems.append(f"SESSION_SECRET is shorter than {MIN_SECRET_LENGTH} characters")
        elif len(set(secret)) < MIN_SECRET_DISTINCT_CHARACTERS:
            problems.append(
                "SESSION_SECRET has fewer than "
                f"{MIN_SECRET_DISTINCT_CHARACTERS} distinct characters"
            )
        if not self.logto_app_secret:
            problems.append("LOGTO_APP_SECRET is missing")
        if not self.uses_https:
            problems.append("BASE_URL is not https")
        if problems:
            raise InsecureSettingsError(
                [f"APP_ENV=production refuses to start: {problem}" for problem in problems]
            )


def _problem(error: ErrorDetails) -> str:
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])  # a validator's own sentence
    name = "_".join(str(part) for part in error["loc"]).upper()
    return f"{name}: {error['msg']}"


@lru_cache
def get_settings() -> Settings:
    """The settings of the environment; SettingsError names every value that is not valid."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError([_problem(problem) for problem in error.errors()]) from None
