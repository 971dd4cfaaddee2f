"""The self-check command, run as a user runs it."""

import os
import subprocess
import sys

from .oidc_provider import OidcProvider
from .servers import PROJECT_DIR, free_port
from .store import app_env

COMMAND = [sys.executable, "manage.py", "logto_check"]
SECRET = "a-test-secret-that-is-long-enough-for-production"


def check(provider: OidcProvider, **environment: str) -> subprocess.CompletedProcess[str]:
    ready = {
        "APP_ENV": "development",
        "SESSION_SECRET": SECRET,
        "BASE_URL": "http://127.0.0.1:8000",
        "LOGTO_ENDPOINT": provider.endpoint,
        "LOGTO_APP_ID": "test-app",
        "LOGTO_APP_SECRET": "test-app-secret",
    }
    return subprocess.run(
        COMMAND,
        cwd=PROJECT_DIR,
        env=os.environ | app_env() | ready | environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_ready_deployment_passes(provider: OidcProvider) -> None:
    result = check(provider)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok    Logto discovery" in result.stdout
    assert "http://127.0.0.1:8000/callback" in result.stdout
    assert "ok    session store" in result.stdout


def test_unreachable_logto_fails(provider: OidcProvider) -> None:
    result = check(provider, LOGTO_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "FAIL  Logto discovery" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_missing_setting_is_named(provider: OidcProvider) -> None:
    result = check(provider, LOGTO_APP_SECRET="")
    assert result.returncode == 1
    assert "LOGTO_APP_SECRET" in result.stdout


def test_production_problems_are_named_in_one_line(provider: OidcProvider) -> None:
    result = check(provider, APP_ENV="production")
    assert result.returncode == 1
    assert "BASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
