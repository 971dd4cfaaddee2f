"""Processes the template's tests run beside a baked project: its app, its provider, a store."""

import os
import re
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

STARTUP_SECONDS = 60


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def project_env(**settings: str) -> dict[str, str]:
    """The environment a baked project's commands run in: ours, outside this repo's venv."""
    return {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"} | settings


def readme_run_commands(project: Path) -> list[list[str]]:
    """The first command of the baked README, which serves the app on port 8000, split at `&&`."""
    block = re.search(r"```sh\n(.*?)\n", (project / "README.md").read_text())
    assert block, "the README must start with a command block"
    line = block[1].split("#")[0].strip()
    return [shlex.split(part) for part in line.split("&&")]


def stop(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, with whatever it started."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        # A server still busy after 15 s must not hide what failed in the test itself.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@contextmanager
def serving(command: list[str], cwd: Path, env: dict[str, str], url: str) -> Iterator[None]:
    """Run `command` until the test is done; ready once `url` answers below 500."""
    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, f"{shlex.join(command)} exited early"
            try:
                if httpx.get(url, timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{url} did not answer within {STARTUP_SECONDS} s")
            time.sleep(0.1)
        yield
    finally:
        stop(process)


@contextmanager
def serving_readme_app(project: Path, env: dict[str, str], port: int) -> Iterator[str]:
    """The app as its README runs it (set-up commands first), on `port`; yields its URL."""
    *set_up, serve = readme_run_commands(project)
    for command in set_up:
        subprocess.run(command, cwd=project, env=env, check=True, capture_output=True)
    base_url = f"http://127.0.0.1:{port}"
    command = [part.replace("8000", str(port)) for part in serve]
    with serving(command, project, env, f"{base_url}/healthz"):
        yield base_url


@contextmanager
def provider(project: Path, env: dict[str, str]) -> Iterator[str]:
    """The baked project's own OpenID Connect test provider; yields its endpoint."""
    process = subprocess.Popen(
        ["uv", "run", "python", "-W", "ignore", "tests/oidc_provider.py"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        yield f"http://127.0.0.1:{int(process.stdout.readline())}"
    finally:
        stop(process)


@contextmanager
def protected_api(
    project: Path, env: dict[str, str], endpoint: str, audience: str
) -> Iterator[str]:
    """The baked project's protected API, for tokens of `audience`; yields its URL."""
    process = subprocess.Popen(
        ["uv", "run", "python", "-W", "ignore", "tests/protected_api.py", endpoint, audience],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        stop(process)


@contextmanager
def mongodb(project: Path, env: dict[str, str]) -> Iterator[str]:
    """MONGODB_URL when set, else a MongoDB-protocol server (secantusdb) of the test's own."""
    if url := os.environ.get("MONGODB_URL"):
        yield url
        return
    port = free_port()
    command = ["uv", "run", "python", "-m", "secantus", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--storage-path", ":memory:"]
    process = subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert process.poll() is None and time.monotonic() < deadline, "secantus did not start"
            time.sleep(0.1)
        yield f"mongodb://127.0.0.1:{port}/contract"
    finally:
        stop(process)
