"""Baking and serving: the template baked and installed, the project's server command read
from its Dockerfile, and the app or the bare app of its framework served with it.

Every server runs pinned to the app's CPU and listens on 127.0.0.1 only.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import tarfile
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cookiecutter.main import cookiecutter

from config import APP_CPU, BARE_APPS, HOST, TEMPLATE, BenchmarkError, RecordCopy
from processes import Processes, free_port, http_get, plain_env, serving_pid, tail

BARE_ENTRY_POINTS = {"flask": "bare_flask:app", "fastapi": "bare_fastapi:app"}
# Options of gunicorn and uvicorn that take no value (any other option is followed by one).
FLAG_OPTIONS = {"--proxy-headers", "--no-access-log", "--access-log", "--preload", "--reload"}
ENTRY_POINT = re.compile(r"^[A-Za-z_][\w.]*(:\S+)?$")


def git(*args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(TEMPLATE), *args], capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode(errors="replace").strip()


def template_at(commit: str | None, workdir: Path) -> tuple[Path, dict[str, Any]]:
    """The template to bake: this checkout as it is, or the files of one commit."""
    if commit is None:
        changes = git("status", "--porcelain", "--", "{{cookiecutter.project_slug}}", "hooks")
        return TEMPLATE, {
            "source": "working tree",
            "head": git("rev-parse", "--short", "HEAD"),
            "uncommitted_changes": bool(changes),
        }
    sha = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    archive = subprocess.run(
        ["git", "-C", str(TEMPLATE), "archive", "--format=tar", sha],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    exported = workdir / "template"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(exported, filter="data")
    return exported, {"source": "commit", "head": sha[:12], "uncommitted_changes": False}


def bake(framework: str, backend: str, into: Path, template: Path) -> Path:
    project = cookiecutter(
        str(template),
        no_input=True,
        output_dir=str(into),
        extra_context={
            "project_name": f"Bench {framework} {backend}",
            "framework": framework,
            "session_backend": backend,
        },
    )
    return Path(project)


def uv_sync(project: Path, log: Path) -> None:
    with log.open("a") as out:
        result = subprocess.run(
            ["uv", "sync", "--no-dev"],
            cwd=project,
            env=plain_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
        )
    if result.returncode != 0:
        raise BenchmarkError(f"uv sync --no-dev failed:\n{tail(log)}")


def dockerfile_commands(project: Path) -> tuple[list[list[str]], list[str]]:
    """What the Dockerfile's CMD runs: the commands before the server (e.g. `manage.py
    migrate`, chained with `&&`), and the production server's argv (one worker)."""
    match = re.search(r"^CMD\s+(\[.*\])\s*$", (project / "Dockerfile").read_text(), re.MULTILINE)
    if not match:
        raise BenchmarkError("the Dockerfile has no CMD [...] line")
    argv: list[str] = json.loads(match[1])
    steps = [argv]
    if argv[:2] == ["sh", "-c"]:
        steps = [shlex.split(step) for step in argv[2].split("&&")]
    *setup, server = steps
    if server[0] == "exec":
        server = server[1:]
    server = [
        token.replace("${WEB_CONCURRENCY}", "1").replace("$WEB_CONCURRENCY", "1")
        for token in server
    ]
    return setup, server


def dockerfile_command(project: Path) -> list[str]:
    """The production server's argv from the Dockerfile's CMD (one worker)."""
    return dockerfile_commands(project)[1]


def entry_point_index(argv: list[str]) -> int:
    """Where the app (`module:app`, `config.wsgi`) stands among the server's arguments."""
    for index in range(len(argv) - 1, 0, -1):
        token, before = argv[index], argv[index - 1]
        takes_value = before.startswith("-") and "=" not in before and before not in FLAG_OPTIONS
        if ENTRY_POINT.match(token) and not takes_value and ("." in token or ":" in token):
            return index
    raise BenchmarkError(f"no app entry point in {shlex.join(argv)}")


def bind_to(argv: list[str], port: int) -> list[str]:
    """The same command, listening on 127.0.0.1:<port> only."""
    bound = []
    for token, before in zip(argv, ["", *argv], strict=False):
        token = token.replace("0.0.0.0", HOST)
        if token == "8000" and before == "--port":
            token = str(port)
        token = re.sub(r":8000$", f":{port}", token)
        bound.append(token)
    return bound


def bare_entry_point(framework: str, app_entry_point: str) -> str:
    if framework == "django":
        return (
            "bare_django:asgi_application"
            if "asgi" in app_entry_point
            else "bare_django:application"
        )
    return BARE_ENTRY_POINTS[framework]


@dataclass
class Server:
    """A running app or bare app: where it listens, its process (gunicorn's master or
    uvicorn), its log."""

    name: str
    url: str
    process: subprocess.Popen[str]
    argv: list[str]
    log: Path

    @property
    def public_url(self) -> str:
        """Its https URL (an app's BASE_URL), as browsers name it behind the TLS proxy;
        `http_client` takes it there (processes.BehindTlsProxy)."""
        return self.url.replace("http://", "https://", 1)

    @property
    def worker_pid(self) -> int:
        return serving_pid(self.process.pid)


def start_server(
    processes: Processes,
    name: str,
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    port: int,
    log: Path,
    ready_path: str,
) -> Server:
    pinned = ["taskset", "-c", APP_CPU, *argv]
    process = processes.start(pinned, cwd=cwd, env=env, log=log)
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchmarkError(f"{name} exited with {process.returncode}:\n{tail(log)}")
        with suppress(httpx.HTTPError):
            if http_get(url + ready_path).status_code < 500:
                return Server(name, url, process, pinned, log)
        time.sleep(0.2)
    raise BenchmarkError(f"{name} did not answer {ready_path} within 60 s:\n{tail(log)}")


def start_bare(
    processes: Processes,
    framework: str,
    project: Path,
    workdir: Path,
    record: RecordCopy | None = None,
) -> Server:
    """The bare app of `framework`, in the project's env, under the project's server command
    (its `/one-read` reads `record`, through the project's driver for that store)."""
    argv = dockerfile_command(project)
    index = entry_point_index(argv)
    argv[index] = bare_entry_point(framework, argv[index])
    port = free_port()
    argv = bind_to(argv, port)
    argv[0] = str(project / ".venv" / "bin" / argv[0])
    config = project / "gunicorn.conf.py"
    if Path(argv[0]).name == "gunicorn" and config.is_file():
        # gunicorn reads ./gunicorn.conf.py: the bare app gets the app's (threads and all).
        argv[1:1] = ["--config", str(config)]
    # The project on the path too: its gunicorn.conf.py reads the project's settings at start
    # (Django's `config.settings` is no installed package).
    path = os.pathsep.join([str(BARE_APPS), str(project)])
    env = plain_env(PYTHONPATH=path, **(record.env if record else {}))
    return start_server(
        processes, f"bare {framework}", argv, cwd=BARE_APPS, env=env, port=port,
        log=workdir / f"bare-{framework}.log", ready_path="/",
    )  # fmt: skip
