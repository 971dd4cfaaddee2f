"""Every framework × session backend bakes a clean project whose own tests pass."""

import os
import re
from pathlib import Path

import pytest

from .conftest import COMBINATIONS, run

COMBINATION_IDS = [f"{framework}-{backend}" for framework, backend in COMBINATIONS]
LEFTOVER_COOKIECUTTER = re.compile(r"\{\{-?\s*cookiecutter\.")
JINJA_TAG = re.compile(r"\{\{|\{%|\{#")


def text_files(project: Path) -> list[Path]:
    skipped = {".venv", ".git", "__pycache__", ".pytest_cache", ".ruff_cache"}
    return [
        path
        for path in project.rglob("*")
        if path.is_file() and not skipped.intersection(path.relative_to(project).parts)
    ]


@pytest.mark.parametrize(("framework", "backend"), COMBINATIONS, ids=COMBINATION_IDS)
def test_bakes_without_template_leftovers(baked, framework: str, backend: str) -> None:
    project = baked(framework, backend)
    assert not (project / "_layers").exists()
    for path in text_files(project):
        text = path.read_text()
        assert not LEFTOVER_COOKIECUTTER.search(text), path
        if path.suffix in {".py", ".toml"}:
            assert not JINJA_TAG.search(text), path
    assert (project / ".env").read_text().count("SESSION_SECRET=") == 1


@pytest.mark.parametrize(("framework", "backend"), COMBINATIONS, ids=COMBINATION_IDS)
def test_baked_project_is_ruff_clean(baked, framework: str, backend: str) -> None:
    project = baked(framework, backend)
    for check in (["check"], ["format", "--check"]):
        result = run(["uv", "run", "ruff", *check, "."], project)
        assert result.returncode == 0, result.stdout + result.stderr


# The `database` backend's tests run on SQLite by default; they run again on PostgreSQL.
POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.mark.parametrize(("framework", "backend"), COMBINATIONS, ids=COMBINATION_IDS)
def test_baked_project_passes_its_own_tests(baked, framework: str, backend: str) -> None:
    project = baked(framework, backend)
    databases = [None, POSTGRES_URL] if backend == "database" else [None]
    for database_url in databases:
        env = {"DATABASE_URL": database_url} if database_url else {}
        result = run(["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"], project, env)
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        assert " passed" in result.stdout
