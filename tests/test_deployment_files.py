"""The Dockerfile, compose file and CI workflow of each baked project fit its framework and store.

No Docker engine runs here, so these files are checked as far as reading them allows.
"""

import re

import pytest
import yaml

from .test_bake import COMBINATION_IDS, COMBINATIONS

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
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE), "the image must not run as root"
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
