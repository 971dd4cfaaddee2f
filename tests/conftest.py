"""Bake helpers shared by the template's tests."""

import json
import os
import subprocess
from itertools import product
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parent.parent
CHOICES = json.loads((TEMPLATE / "cookiecutter.json").read_text())
COMBINATIONS = list(product(CHOICES["framework"], CHOICES["session_backend"]))


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a command in a baked project as its user would, outside this repo's virtualenv."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"} | (env or {})
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session")
def baked(cookies_session):
    """Bake each framework × backend once per test session; returns its project path."""
    projects: dict[tuple[str, str], Path] = {}

    def bake(framework: str, backend: str) -> Path:
        if (framework, backend) not in projects:
            result = cookies_session.bake(
                extra_context={
                    "project_name": f"App {framework} {backend}",  # sorts before `config`
                    "framework": framework,
                    "session_backend": backend,
                }
            )
            assert result.exit_code == 0, result.exception
            projects[framework, backend] = Path(result.project_path)
        return projects[framework, backend]

    return bake
