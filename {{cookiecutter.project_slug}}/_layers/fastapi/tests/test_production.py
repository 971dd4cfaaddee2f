"""In production the app refuses to start with settings that would make it unsafe."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.project_slug }}.config import InsecureSettingsError
from {{ cookiecutter.project_slug }}.main import WORKER_BOOT_ERROR, create_app

from .conftest import make_settings
from .helpers import closed_port

PROJECT = Path(__file__).resolve().parent.parent

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
        (
            {"session_secret": "Your-Session-Secret-Goes-Here-1234567890"},
            "SESSION_SECRET is a placeholder",
        ),
        ({"session_secret": "xxxxXXXX" * 5}, "SESSION_SECRET is a placeholder"),
        ({"session_secret": "k7Q2vX9pL4mN8rT1"}, "SESSION_SECRET is shorter than 32 characters"),
        ({"session_secret": " " * 40}, "SESSION_SECRET is missing"),
        ({"session_secret": "a" * 40}, "SESSION_SECRET has fewer than 10 distinct characters"),
        ({"session_secret": "abcd" * 10}, "SESSION_SECRET has fewer than 10 distinct characters"),
        ({"logto_app_secret": ""}, "LOGTO_APP_SECRET is missing"),
        ({"base_url": "http://app.example.com"}, "BASE_URL is not https"),
    ],
)
def test_unsafe_production_setting_is_refused(
    store_settings: dict[str, Any], unsafe: dict[str, str], problem: str
) -> None:
    with pytest.raises(InsecureSettingsError, match=problem):
        create_app(make_settings(store_settings, **{**SAFE_PRODUCTION, **unsafe}))


def test_a_random_secret_may_hold_a_placeholder_word(store_settings: dict[str, Any]) -> None:
    secret = "k7Q2vX9pL4mN8rT1wY6zB3cF5hJ0dG-sA-example-secret"
    create_app(make_settings(store_settings, **{**SAFE_PRODUCTION, "session_secret": secret}))


def test_development_starts_with_the_same_settings(store_settings: dict[str, Any]) -> None:
    create_app(make_settings(store_settings, session_secret="", logto_app_secret=""))


UNSAFE_PRODUCTION_ENV = {
    "APP_ENV": "production",
    "BASE_URL": "http://app.example.com",
    "SESSION_SECRET": "",
    "LOGTO_APP_SECRET": "",
}
UNSAFE_PRODUCTION_PROBLEMS = [
    "APP_ENV=production refuses to start: SESSION_SECRET is missing",
    "APP_ENV=production refuses to start: LOGTO_APP_SECRET is missing",
    "APP_ENV=production refuses to start: BASE_URL is not https",
]


def import_app(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import {{ cookiecutter.project_slug }}.main"],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
    )


def test_server_stops_with_one_line_per_problem() -> None:
    result = import_app(UNSAFE_PRODUCTION_ENV)
    assert result.returncode == WORKER_BOOT_ERROR
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == UNSAFE_PRODUCTION_PROBLEMS


@pytest.mark.parametrize("app_env", ["Production", " PRODUCTION ", "production\n"])
def test_app_env_is_read_whatever_its_case_and_surrounding_spaces(app_env: str) -> None:
    result = import_app({**UNSAFE_PRODUCTION_ENV, "APP_ENV": app_env})
    assert result.stderr.splitlines() == UNSAFE_PRODUCTION_PROBLEMS


def test_unknown_app_env_is_refused_in_one_line() -> None:
    result = import_app({"APP_ENV": "staging"})
    assert result.returncode == WORKER_BOOT_ERROR
    assert result.stderr.splitlines() == [
        "APP_ENV must be development or production, not 'staging'"
    ]


def test_a_setting_that_is_not_valid_is_named_in_one_line() -> None:
    result = import_app({"SESSION_LIFETIME": "two weeks"})
    assert result.returncode == WORKER_BOOT_ERROR
    [line] = result.stderr.splitlines()
    assert line.startswith("SESSION_LIFETIME: ")


def test_refused_start_stops_the_docker_command_with_two_workers() -> None:
    """The Dockerfile's CMD (on a free port of 127.0.0.1) fails at once, one line per problem,
    rather than leaving uvicorn's parent to start workers that cannot boot."""
    command = dockerfile_command().replace("0.0.0.0", "127.0.0.1")
    command = command.replace("--port 8000", f"--port {closed_port()}")
    environment = {**os.environ, **UNSAFE_PRODUCTION_ENV, "WEB_CONCURRENCY": "2"}
    bin_dir = os.path.dirname(sys.executable)  # the project's python and uvicorn
    environment["PATH"] = bin_dir + os.pathsep + environment.get("PATH", "")
    server = subprocess.Popen(
        ["sh", "-c", command],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its workers too can be ended, should it hang
    )
    try:
        output, _ = server.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.communicate()
        pytest.fail("the server still runs 15 s after refusing to start")
    assert server.returncode != 0
    assert "Traceback" not in output
    for problem in UNSAFE_PRODUCTION_PROBLEMS:
        assert problem.removeprefix("APP_ENV=production refuses to start: ") in output


def dockerfile_command() -> str:
    """The shell command of the Dockerfile's `CMD ["sh", "-c", command]`."""
    dockerfile = (PROJECT / "Dockerfile").read_text()
    [cmd] = [line for line in dockerfile.splitlines() if line.startswith("CMD ")]
    shell, flag, command = json.loads(cmd.removeprefix("CMD "))
    assert (shell, flag) == ("sh", "-c")
    return command
