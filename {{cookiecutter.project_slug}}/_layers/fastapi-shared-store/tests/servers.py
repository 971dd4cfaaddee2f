"""Real server processes of the app, for what one TestClient cannot show."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2

from .helpers import as_environment

APP = "{{ cookiecutter.project_slug }}.main:app"
STARTUP_SECONDS = 30


@contextmanager
def app_server(port: int, settings: dict[str, Any]) -> Iterator[str]:
    """Serve the app with uvicorn on 127.0.0.1:`port`; yields its base URL."""
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **as_environment(settings)}
    command = [sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env)
    try:
        wait_until_serving(process, f"{base_url}/healthz")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until_serving(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx2.get(url, timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered at {url} within {STARTUP_SECONDS} s")
