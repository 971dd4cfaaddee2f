"""Production refuses weak or missing settings before serving anything: one line per
problem, no traceback, under manage.py and under the Dockerfile's own command."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .servers import PROJECT_DIR
from .test_security import GOOD_PRODUCTION_ENV, django_setting, manage_check

STARTUP_LIMIT = 15  # seconds for a server that refuses to start to be gone


def dockerfile_command() -> list[str]:
    """The CMD of the project's Dockerfile, in its exec form."""
    for line in (PROJECT_DIR / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            return json.loads(line.removeprefix("CMD "))  # type: ignore[no-any-return]
    raise AssertionError("the Dockerfile has no CMD")


def serve_as_the_container_does(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **GOOD_PRODUCTION_ENV, "WEB_CONCURRENCY": "2", **env}
    # The container's PATH has the project's environment first: so does this one.
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    return subprocess.run(
        dockerfile_command(),
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=STARTUP_LIMIT,
    )


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("APP_ENV")]


def test_the_container_command_exits_at_once_naming_each_problem() -> None:
    result = serve_as_the_container_does(SESSION_SECRET="a" * 40, BASE_URL="http://app.example")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    refusal = "APP_ENV=production refuses to start:"
    assert error_lines(result) == [
        f"{refusal} SESSION_SECRET has fewer than 10 distinct characters",
        f"{refusal} BASE_URL is not https",
    ]


def test_the_container_command_refuses_an_unknown_app_env() -> None:
    result = serve_as_the_container_does(APP_ENV="staging")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert error_lines(result) == ["APP_ENV must be development or production, not 'staging'"]


@pytest.mark.parametrize("value", ["Production", " PRODUCTION\t", "production "])
def test_app_env_is_read_whatever_its_case_and_spaces(value: str) -> None:
    assert django_setting("PRODUCTION", **{**GOOD_PRODUCTION_ENV, "APP_ENV": value}) == "True"


@pytest.mark.parametrize(
    ("secret", "complaint"),
    [
        (" " * 48, "SESSION_SECRET is missing"),
        ("\t \n", "SESSION_SECRET is missing"),
        ("a" * 48, "SESSION_SECRET has fewer than 10 distinct characters"),
        ("ab12" * 12, "SESSION_SECRET has fewer than 10 distinct characters"),
    ],
    ids=["spaces", "blank", "one character", "short pattern"],
)
def test_production_refuses_a_secret_that_is_not_random(secret: str, complaint: str) -> None:
    result = manage_check(SESSION_SECRET=secret)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert error_lines(result) == [f"APP_ENV=production refuses to start: {complaint}"]


def test_each_problem_has_a_line_of_its_own() -> None:
    result = manage_check(SESSION_SECRET="", LOGTO_APP_SECRET="")
    assert result.returncode != 0
    lines = error_lines(result)
    assert len(lines) == 2
    assert "SESSION_SECRET is missing" in lines[0]
    assert "LOGTO_APP_SECRET is missing" in lines[1]
