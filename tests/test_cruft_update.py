"""A project baked with `cruft create` can pull later template changes with `cruft update`."""

import json
import shutil
import subprocess
from pathlib import Path

from .conftest import TEMPLATE

IGNORED = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def cruft(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["cruft", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )


def test_cruft_update_brings_a_template_change_into_a_baked_project(tmp_path: Path) -> None:
    # cruft clones the template from git: give it this working tree as a repository.
    template = tmp_path / "template"
    shutil.copytree(TEMPLATE, template, ignore=IGNORED)
    git(template, "init", "-q", "-b", "main")
    git(template, "add", "-A")
    git(template, "commit", "-qm", "template v1")

    created = cruft(tmp_path, "create", str(template), "--no-input", "--output-dir", "out")
    assert created.returncode == 0, created.stderr
    project = tmp_path / "out" / "logto_app"
    recorded = json.loads((project / ".cruft.json").read_text())
    assert recorded["template"] == str(template)
    assert recorded["context"]["cookiecutter"]["framework"] == "flask"
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "baked")
    assert cruft(project, "check").returncode == 0

    gitignore = template / "{{cookiecutter.project_slug}}" / ".gitignore"
    gitignore.write_text(gitignore.read_text() + "coverage.xml\n")
    git(template, "commit", "-qam", "template v2")
    assert cruft(project, "check").returncode != 0

    updated = cruft(project, "update", "--skip-apply-ask")
    assert updated.returncode == 0, updated.stderr
    assert "coverage.xml" in (project / ".gitignore").read_text()
    assert cruft(project, "check").returncode == 0
