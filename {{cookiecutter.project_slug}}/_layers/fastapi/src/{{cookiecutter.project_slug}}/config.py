"""Every setting of the app, read from the environment (and `.env`) in one place."""

import secrets
from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .store_config import StoreSettings

# Words of the values people paste from examples; no secret of theirs contains them.
PLACEHOLDER_MARKERS = ("change", "replace", "example", "placeholder", "your-", "secret")
MIN_SECRET_LENGTH = 32


class InsecureSettingsError(Exception):
    """Production settings that the app refuses to start with."""


class Settings(BaseSettings, StoreSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "production"] = "development"
    base_url: str = "http://127.0.0.1:8000"
    session_secret: str = ""
    session_lifetime: int = Field(default=1_209_600, gt=0)
    session_key_prefix: str = "{{ cookiecutter.project_slug }}:session:"
    logto_endpoint: str = ""
    logto_app_id: str = ""
    logto_app_secret: str = ""

    @field_validator("base_url", "logto_endpoint")
    @classmethod
    def _without_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @model_validator(mode="after")
    def _random_secret_in_development(self) -> Self:
        # Development may run without SESSION_SECRET: a random one lasts as long as the process.
        if not self.session_secret and self.app_env == "development":
            self.session_secret = secrets.token_urlsafe(MIN_SECRET_LENGTH)
        return self

    @property
    def uses_https(self) -> bool:
        return self.base_url.startswith("https://")

    def missing_logto_settings(self) -> list[str]:
        """Names of the Logto settings sign-in cannot do without."""
        required = {"LOGTO_ENDPOINT": self.logto_endpoint, "LOGTO_APP_ID": self.logto_app_id}
        return [name for name, value in required.items() if not value]

    def check_production(self) -> None:
        """Refuse what would make a production deployment unsafe, naming every problem."""
        if self.app_env != "production":
            return
        problems = []
        secret = self.session_secret
        if not secret:
            problems.append("SESSION_SECRET is missing")
        elif any(marker in secret.lower() for marker in PLACEHOLDER_MARKERS):
            problems.append("SESSION_SECRET is a placeholder")
        elif len(secret) < MIN_SECRET_LENGTH:
            problems.append(f"SESSION_SECRET is shorter than {MIN_SECRET_LENGTH} characters")
        if not self.logto_app_secret:
            problems.append("LOGTO_APP_SECRET is missing")
        if not self.uses_https:
            problems.append("BASE_URL is not https")
        if problems:
            raise InsecureSettingsError(
                "Refusing to start with APP_ENV=production: " + "; ".join(problems) + "."
            )


@lru_cache
def get_settings() -> Settings:
    return Settings()
