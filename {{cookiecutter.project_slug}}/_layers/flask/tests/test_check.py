"""The self-check command, `flask --app <package>.app check`, run as a user runs it."""

import sys

from .oidc_provider import OidcProvider
from .servers import environment_of, free_port, logto_environment, run_check


def logto(provider: OidcProvider) -> dict[str, str]:
    return logto_environment(provider.endpoint)


def test_a_ready_deployment_passes(provider: OidcProvider, store_settings) -> None:
    result = run_check(logto(provider) | environment_of(store_settings))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok    Logto discovery" in result.stdout
    assert "http://127.0.0.1:8000/callback" in result.stdout
    assert "ok    session store" in result.stdout
    assert "Traceback" not in result.stderr


def test_python_m_runs_the_same_check(provider: OidcProvider, store_settings) -> None:
    alias = [sys.executable, "-m", "{{ cookiecutter.project_slug }}.check"]
    result = run_check(logto(provider) | environment_of(store_settings), alias)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok    session store" in result.stdout


def test_unreachable_logto_fails(provider: OidcProvider, store_settings) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    result = run_check(
        logto(provider) | environment_of(store_settings) | {"LOGTO_ENDPOINT": endpoint}
    )
    assert result.returncode == 1
    assert "FAIL  Logto discovery" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_missing_setting_is_named(provider: OidcProvider, store_settings) -> None:
    result = run_check(logto(provider) | environment_of(store_settings) | {"LOGTO_APP_SECRET": ""})
    assert result.returncode == 1
    assert "LOGTO_APP_SECRET" in result.stdout


def test_production_problems_are_named(provider: OidcProvider, store_settings) -> None:
    result = run_check(logto(provider) | environment_of(store_settings) | {"APP_ENV": "production"})
    assert result.returncode == 1
    assert "FAIL  settings" in result.stdout and "BASE_URL is not https" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_bad_resource_indicator_is_named(provider: OidcProvider, store_settings) -> None:
    environment = logto(provider) | environment_of(store_settings)
    result = run_check(environment | {"LOGTO_RESOURCES": "api.example.com"})
    assert result.returncode == 1
    assert "FAIL  settings" in result.stdout
    assert "LOGTO_RESOURCES: 'api.example.com' is not an absolute URI" in result.stdout
    assert "Traceback" not in result.stderr
