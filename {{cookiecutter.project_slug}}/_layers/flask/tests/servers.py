"""Real processes for the tests: the app under gunicorn, its self-check command, store
servers of a test's own, and ports to put them on."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
APP = "{{ cookiecutter.project_slug }}.app:create_app()"  # for gunicorn
CHECK = [sys.executable, "-m", "flask", "--app", "{{ cookiecutter.project_slug }}.app", "check"]
STARTUP_SECONDS = 30
# A secret fit for production (the tests' SESSION_SECRET).
SECRET = "a-test-secret-that-is-long-enough-for-production"


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listened on a moment ago (nor does now, unless a
    test starts something there: a closed port to fail to connect to)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {STARTUP_SECONDS}s")


@contextmanager
def serving_app(env: dict[str, str], port: int, log: Path, workers: int = 1) -> Iterator[str]:
    """The app under gunicorn, as in production, on `port`; yields its URL."""
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), APP]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=PROJECT, env={**os.environ, **env}, stdout=output, stderr=output
        )
    try:
        wait_until_listening(port, process)
        # Listening is the master's doing; answering needs a worker that has booted.
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=STARTUP_SECONDS)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


class StoreProcess:
    """A session store server of a test's own, to stop and start again on the same port."""

    def __init__(self, command: list[str], port: int) -> None:
        self.command = command
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until_listening(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None


def run_check(
    environment: dict[str, str], command: list[str] = CHECK
) -> subprocess.CompletedProcess[str]:
    """The self-check command, run as a user runs it, in development with `environment`."""
    env = os.environ | {"APP_ENV": "development", "SESSION_SECRET": SECRET} | environment
    return subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)


def environment_of(settings: dict[str, object]) -> dict[str, str]:
    """`Settings` field values as the environment variables that set them."""
    return {
        name.upper(): " ".join(value) if isinstance(value, tuple) else str(value)
        for name, value in settings.items()
    }


def logto_environment(endpoint: str) -> dict[str, str]:
    """The Logto settings of a deployment at 127.0.0.1:8000 signing in at `endpoint`."""
    return {
        "BASE_URL": "http://127.0.0.1:8000",
        "LOGTO_ENDPOINT": endpoint,
        "LOGTO_APP_ID": "test-app",
        "LOGTO_APP_SECRET": "test-app-secret",
    }
