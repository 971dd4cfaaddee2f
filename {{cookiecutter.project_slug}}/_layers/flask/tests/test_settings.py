"""Settings from the environment, and a production app that refuses to start unsafe."""

import pytest

from {{ cookiecutter.project_slug }}.app import create_app
from {{ cookiecutter.project_slug }}.settings import Settings, SettingsError

from .conftest import SECRET

SAFE_PRODUCTION = {
    "APP_ENV": "production",
    "BASE_URL": "https://app.example",
    "SESSION_SECRET": SECRET,
    "LOGTO_ENDPOINT": "https://tenant.logto.app",
    "LOGTO_APP_ID": "app-id",
    "LOGTO_APP_SECRET": "app-secret",
}


def test_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {**SAFE_PRODUCTION, "SESSION_LIFETIME": "60", "BASE_URL": "https://app.example/"}
    )
    assert settings.production
    assert settings.base_url == "https://app.example"
    assert settings.session_lifetime == 60
    assert settings.logto_app_secret == "app-secret"
    assert SECRET not in repr(settings)
    assert "app-secret" not in repr(settings)


def test_empty_variables_mean_the_defaults() -> None:
    settings = Settings.from_env({"SESSION_LIFETIME": "", "BASE_URL": ""})
    assert settings == Settings()


def test_a_number_that_is_not_one_is_named() -> None:
    with pytest.raises(SettingsError, match="SESSION_LIFETIME"):
        Settings.from_env({"SESSION_LIFETIME": "two weeks"})


def test_safe_production_settings_start() -> None:
    assert create_app(Settings.from_env(SAFE_PRODUCTION)).config["SESSION_COOKIE_SECURE"]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"SESSION_SECRET": ""}, "SESSION_SECRET is missing"),
        ({"SESSION_SECRET": "change-me"}, "SESSION_SECRET is missing or a placeholder"),
        ({"SESSION_SECRET": "too-short-a-secret"}, "SESSION_SECRET is shorter than 32"),
        ({"LOGTO_APP_SECRET": ""}, "LOGTO_APP_SECRET is missing"),
        ({"BASE_URL": "http://app.example"}, "BASE_URL is not an https:// URL"),
    ],
)
def test_unsafe_production_settings_refuse_to_start(changes: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named) as refused:
        create_app(Settings.from_env({**SAFE_PRODUCTION, **changes}))
    assert str(refused.value).startswith("APP_ENV=production refuses to start")


def test_development_starts_without_secrets() -> None:
    create_app(Settings.from_env({"APP_ENV": "development"}))
