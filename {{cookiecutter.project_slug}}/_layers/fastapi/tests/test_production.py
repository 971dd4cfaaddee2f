"""In production the app refuses to start with settings that would make it unsafe."""

import os
import subprocess
import sys
from typing import Any

import pytest

from {{ cookiecutter.project_slug }}.config import InsecureSettingsError
from {{ cookiecutter.project_slug }}.main import create_app

from .conftest import make_settings

SAFE_PRODUCTION = {
    "app_env": "production",
    "base_url": "https://app.example.com",
    "session_secret": "k7Q2vX9pL4mN8rT1wY6zB3cF5hJ0dG-sA",
    "logto_app_secret": "logto-app-secret",
}


def test_safe_production_settings_start(store_settings: dict[str, Any]) -> None:
    create_app(make_settings(store_settings, **SAFE_PRODUCTION))


@pytest.mark.parametrize(
    ("unsafe", "problem"),
    [
        ({"session_secret": ""}, "SESSION_SECRET is missing"),
        (
            {"session_secret": "change-me-to-a-long-random-string!!"},
            "SESSION_SECRET is a placeholder",
        ),
        ({"session_secret": "k7Q2vX9pL4mN8rT1"}, "SESSION_SECRET is shorter than 32 characters"),
        ({"logto_app_secret": ""}, "LOGTO_APP_SECRET is missing"),
        ({"base_url": "http://app.example.com"}, "BASE_URL is not https"),
    ],
)
def test_unsafe_production_setting_is_refused(
    store_settings: dict[str, Any], unsafe: dict[str, str], problem: str
) -> None:
    with pytest.raises(InsecureSettingsError, match=problem):
        create_app(make_settings(store_settings, **{**SAFE_PRODUCTION, **unsafe}))


def test_development_starts_with_the_same_settings(store_settings: dict[str, Any]) -> None:
    create_app(make_settings(store_settings, session_secret="", logto_app_secret=""))


def test_server_stops_with_one_clear_line() -> None:
    environment = {
        **os.environ,
        "APP_ENV": "production",
        "BASE_URL": "http://app.example.com",
        "SESSION_SECRET": "",
        "LOGTO_APP_SECRET": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import {{ cookiecutter.project_slug }}.main"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "Refusing to start with APP_ENV=production: SESSION_SECRET is missing; "
        "LOGTO_APP_SECRET is missing; BASE_URL is not https."
    )
