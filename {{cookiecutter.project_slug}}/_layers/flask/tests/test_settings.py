"""Settings from the environment, and a production app that refuses to start unsafe."""

import json
import os
import subprocess
import time

import pytest
from logto.models.oidc import UserInfoScope

from {{ cookiecutter.project_slug }}.app import create_app
from {{ cookiecutter.project_slug }}.settings import Settings, SettingsError

from .conftest import SECRET
from .servers import PROJECT, free_port

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
        ({"SESSION_SECRET": " " * 48}, "SESSION_SECRET is missing"),
        ({"SESSION_SECRET": "change-me"}, "SESSION_SECRET is a placeholder"),
        ({"SESSION_SECRET": f"Replace-Me-{SECRET}"}, "SESSION_SECRET is a placeholder"),
        ({"SESSION_SECRET": f"your-{SECRET}"}, "SESSION_SECRET is a placeholder"),
        ({"SESSION_SECRET": f"xxx{SECRET}"}, "SESSION_SECRET is a placeholder"),
        ({"SESSION_SECRET": "too-short-a-secret"}, "SESSION_SECRET is shorter than 32"),
        ({"SESSION_SECRET": f"  {SECRET[:30]}  "}, "SESSION_SECRET is shorter than 32"),
        ({"SESSION_SECRET": "a" * 64}, "SESSION_SECRET has fewer than 10 distinct characters"),
        ({"SESSION_SECRET": "abcdefghi" * 8}, "SESSION_SECRET has fewer than 10 distinct"),
        ({"LOGTO_APP_SECRET": ""}, "LOGTO_APP_SECRET is missing"),
        ({"BASE_URL": "http://app.example"}, "BASE_URL is not https"),
    ],
)
def test_unsafe_production_settings_refuse_to_start(changes: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named) as refused:
        create_app(Settings.from_env({**SAFE_PRODUCTION, **changes}))
    assert str(refused.value).startswith("APP_ENV=production refuses to start")


def test_every_production_problem_has_a_line_of_its_own() -> None:
    unsafe = {**SAFE_PRODUCTION, "SESSION_SECRET": "y" * 40, "BASE_URL": "http://app.example"}
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(unsafe).check()
    assert str(refused.value).splitlines() == [
        "APP_ENV=production refuses to start: SESSION_SECRET has fewer than 10 distinct characters",
        "APP_ENV=production refuses to start: BASE_URL is not https",
    ]


@pytest.mark.parametrize("app_env", ["Production", " production ", "PRODUCTION\n"])
def test_app_env_ignores_case_and_surrounding_whitespace(app_env: str) -> None:
    assert Settings.from_env({**SAFE_PRODUCTION, "APP_ENV": app_env}).production
    with pytest.raises(SettingsError, match="SESSION_SECRET is missing"):
        Settings.from_env({"APP_ENV": app_env}).check()


def test_the_app_config_holds_the_settings() -> None:
    config = create_app(Settings.from_env(SAFE_PRODUCTION)).config
    assert config["BASE_URL"] == "https://app.example"
    assert config["LOGTO_APP_ID"] == "app-id"
    assert config["SESSION_LIFETIME"] == 1_209_600


def test_an_unknown_app_env_is_refused_in_one_line() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"APP_ENV": "staging"}).check()
    assert str(refused.value) == "APP_ENV must be development or production, not 'staging'"


def test_logto_lists_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "LOGTO_SCOPES": "email, phone email  read:items",
            "LOGTO_RESOURCES": "https://api.example.com,https://other.example.com/v1 ",
            "LOGTO_ORGANIZATION_SCOPES": "read:members",
            "API_URL": " https://api.example.com/items ",
        }
    )
    assert settings.logto_scopes == ("email", "phone", "read:items")
    assert settings.logto_resources == ("https://api.example.com", "https://other.example.com/v1")
    assert settings.logto_organization_scopes == ("read:members",)
    assert settings.api_url == "https://api.example.com/items"

    config = create_app(settings).extensions["logto_config"]
    assert config.scopes == [
        "email",
        "phone",
        "read:items",
        UserInfoScope.organizations,  # the SDK's own name of urn:logto:scope:organizations
        "read:members",
    ]
    assert config.resources == ["https://api.example.com", "https://other.example.com/v1"]


def test_logto_lists_are_empty_by_default() -> None:
    config = create_app(Settings.from_env({"LOGTO_RESOURCES": " ", "LOGTO_SCOPES": ""})).extensions[
        "logto_config"
    ]
    assert (config.scopes, config.resources) == ([], [])


@pytest.mark.parametrize("app_env", ["development", "production"])
def test_a_resource_that_is_no_indicator_is_refused(app_env: str) -> None:
    environ = {**SAFE_PRODUCTION, "APP_ENV": app_env}
    environ["LOGTO_RESOURCES"] = "https://api.example.com api.example.com https://a.example/#x"
    with pytest.raises(SettingsError) as refused:
        create_app(Settings.from_env(environ))
    assert str(refused.value).splitlines() == [
        "LOGTO_RESOURCES: 'api.example.com' is not an absolute URI without a fragment",
        "LOGTO_RESOURCES: 'https://a.example/#x' is not an absolute URI without a fragment",
    ]


@pytest.mark.parametrize("api_url", ["api.example.com", "ftp://api.example.com", "http://[::1"])
def test_an_api_url_that_is_no_http_url_is_refused(api_url: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"API_URL": api_url}).check()
    assert str(refused.value) == f"API_URL: {api_url!r} is not an http(s) URL"


def dockerfile_command(port: int) -> list[str]:
    """The Dockerfile's CMD, listening on `port` of 127.0.0.1 instead of 8000 of all."""
    dockerfile = (PROJECT / "Dockerfile").read_text()
    command = json.loads(dockerfile.rsplit("\nCMD ", 1)[1].splitlines()[0])
    return [part.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for part in command]


def test_the_production_server_refuses_unsafe_settings_at_once() -> None:
    unsafe = {**SAFE_PRODUCTION, "SESSION_SECRET": "y" * 40, "BASE_URL": "http://app.example"}
    started = time.monotonic()
    server = subprocess.run(
        dockerfile_command(free_port()),
        cwd=PROJECT,
        env={**os.environ, **unsafe, "WEB_CONCURRENCY": "2"},
        capture_output=True,
        text=True,
        timeout=15,
    )
    assert time.monotonic() - started < 15
    assert server.returncode != 0
    assert "Traceback" not in server.stderr
    assert "SESSION_SECRET has fewer than 10 distinct characters" in server.stderr
    assert "BASE_URL is not https" in server.stderr
    assert "Booting worker" not in server.stderr


def test_development_starts_without_secrets() -> None:
    create_app(Settings.from_env({"APP_ENV": "development"}))
