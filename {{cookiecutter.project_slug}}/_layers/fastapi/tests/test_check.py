"""The self-check command, run as a user runs it."""

import os
import subprocess
import sys

from .helpers import as_environment, closed_port
from .oidc_provider import OidcProvider

SECRET = "test-secret-" + "x" * 32

COMMAND = [sys.executable, "-m", "{{ cookiecutter.project_slug }}.check"]


def check(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"APP_ENV": "development", "SESSION_SECRET": SECRET} | environment
    return subprocess.run(COMMAND, env=env, capture_output=True, text=True, timeout=60)


def logto(provider: OidcProvider) -> dict[str, str]:
    return {
        "BASE_URL": "http://127.0.0.1:8000",
        "LOGTO_ENDPOINT": provider.endpoint,
        "LOGTO_APP_ID": "test-app",
        "LOGTO_APP_SECRET": "test-app-secret",
    }


def test_a_ready_deployment_passes(provider: OidcProvider, store_settings) -> None:
    result = check(logto(provider) | as_environment(store_settings))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok    Logto discovery" in result.stdout
    assert "http://127.0.0.1:8000/callback" in result.stdout
    assert "ok    session store" in result.stdout
    assert "Traceback" not in result.stderr


def test_unreachable_logto_fails(provider: OidcProvider, store_settings) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    result = check(logto(provider) | as_environment(store_settings) | {"LOGTO_ENDPOINT": endpoint})
    assert result.returncode == 1
    assert "FAIL  Logto discovery" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_missing_setting_is_named(provider: OidcProvider, store_settings) -> None:
    result = check(logto(provider) | as_environment(store_settings) | {"LOGTO_APP_SECRET": ""})
    assert result.returncode == 1
    assert "LOGTO_APP_SECRET" in result.stdout


def test_production_problems_are_named(provider: OidcProvider, store_settings) -> None:
    result = check(logto(provider) | as_environment(store_settings) | {"APP_ENV": "production"})
    assert result.returncode == 1
    assert "FAIL  settings" in result.stdout and "BASE_URL" in result.stdout
    assert "Traceback" not in result.stderr


def test_settings_only_fails_where_the_app_would_refuse_to_start() -> None:
    unsafe = {"APP_ENV": "Production", "BASE_URL": "http://app.example.com", "SESSION_SECRET": ""}
    env = os.environ | unsafe
    result = subprocess.run(
        [*COMMAND, "--settings-only"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    refusal = "APP_ENV=production refuses to start: SESSION_SECRET is missing"
    assert f"FAIL  settings: {refusal}" in result.stdout.splitlines()
    assert "Traceback" not in result.stderr


def test_settings_only_reaches_nothing() -> None:
    unreachable = {"LOGTO_ENDPOINT": f"http://127.0.0.1:{closed_port()}", "APP_ENV": "development"}
    env = os.environ | unreachable
    result = subprocess.run(
        [*COMMAND, "--settings-only"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "ok    settings: the app starts with APP_ENV=development"
